"""Member passwords: Argon2id hashes (argon2-cffi's RFC 9106 low-memory profile).

Hashing costs tens of milliseconds on purpose; async callers run it in a
thread (``asyncio.to_thread``) so the event loop keeps serving.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "check_password_rules",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; a cap stops hashing megabytes per login.


def check_password_rules(password: str) -> str | None:
    """Why ``password`` is refused, or ``None`` when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters"
    return None


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (algorithm, parameters and salt included)."""
    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a damaged hash counts as no match."""
    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
