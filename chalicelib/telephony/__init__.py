"""The Twilio seam: everything that talks to Twilio, or speaks its formats, lives here.

Kept empty on purpose: importing the package must not import `twilio.rest` (about 150 ms of
cold start that routes which never talk to Twilio should not pay for)."""
