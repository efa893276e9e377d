"""API keys and passwords: generation, hashing, the password policy.

API keys look like `ck_<id>_<secret>`: the id finds the stored record with one GetItem, the
secret is compared by its SHA-256 in constant time (a key is 32 random bytes: a fast hash is
enough, there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

KEY_PREFIX = "ck_"
_KEY = re.compile(r"^ck_([0-9a-z]{10,32})_([A-Za-z0-9_-]{20,100})$")

# The policy the user pool enforces in AWS (infra/), checked here as well: the local emulator
# does not check it.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
PASSWORD_POLICY = (
    f"at least {MIN_PASSWORD_LENGTH} characters, with an upper-case letter, a lower-case letter "
    "and a digit"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(id, the key shown once, the hash kept)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{key_id}_{secret}"
    return key_id, key, sha256(key)


def parse_api_key(token: str) -> str | None:
    """The key's id when `token` has the shape of one of our API keys."""
    match = _KEY.match(token)
    return match.group(1) if match else None


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def password_problem(password: str) -> str | None:
    """What is wrong with a new password under the policy, or None."""
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have {PASSWORD_POLICY}"
    if not (
        any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
    ):
        return f"the password must have {PASSWORD_POLICY}"
    return None


def temporary_password() -> str:
    """A random password that meets the policy (16 characters), with one symbol too, so that a
    pool whose policy also asks for symbols (Cognito's default) accepts it."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(15))
        candidate += secrets.choice("-_.!")
        if password_problem(candidate) is None:
            return candidate
