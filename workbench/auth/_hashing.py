"""Password hashing with scrypt (hashlib): a per-user random salt, memory-hard, compared in constant time.

A stored hash is one string ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key in URL-safe base64), so
the cost parameters travel with each hash and can be raised later without breaking old accounts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

__all__ = ["SCRYPT_N", "SCRYPT_P", "SCRYPT_R", "burn_time", "hash_password", "needs_rehash", "verify_password"]

#: scrypt cost parameters of new hashes: N = 2**14, r = 8, p = 1 (16 MiB of memory per hash).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_KEY_BYTES = 32
_SALT_BYTES = 16
_PREFIX = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES,
                          maxmem=2 * 128 * r * n + 1024 * 1024)


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password`` (the password itself is not in it).

    Examples
    --------
    >>> h = hash_password("correct horse battery")
    >>> h.startswith("scrypt$16384$8$1$") and "correct" not in h
    True
    >>> verify_password("correct horse battery", h), verify_password("wrong", h)
    (True, False)
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_PREFIX}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        return n, r, p, _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison; False for a malformed hash)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with weaker parameters than new hashes use."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] < SCRYPT_N or parsed[1] < SCRYPT_R or parsed[2] < SCRYPT_P


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Spend the time one verification takes, so that a login attempt for an unknown user takes as long
    as one for a known user (the answer reveals nothing either way)."""
    verify_password(password, _dummy_hash())
