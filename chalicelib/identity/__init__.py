"""Sign-in and sessions: the identity provider seam (Cognito, or the local emulator that
speaks its API), access-token verification, API keys and the password policy.

The app-side session rules (DESIGN.md, "Identity") live here and in `services/auth.py`, the
same code in AWS and under `make dev`: nothing branches on where it runs."""
