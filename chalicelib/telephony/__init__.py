"""The telephony seam: a `Telephony` protocol, the Twilio adapter (SDK imported lazily), a
recording fake for tests, TwiML builders and the webhook signature check."""
