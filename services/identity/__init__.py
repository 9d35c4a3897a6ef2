"""The identity service: staff accounts and their passwords, the signing keys and their
JWKS, and the tokens every other service verifies (access tokens signed with Ed25519,
refresh tokens that rotate). One-time codes by SMS for migrants and families sign in here
too (otp.py, projections.py)."""
