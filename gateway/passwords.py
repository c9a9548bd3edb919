"""Password hashing: the one secret the gateway transforms, because PostgreSQL (no pgcrypto) cannot.

scrypt (hashlib, memory-hard): a new password becomes `scrypt$N$r$p$<salt b64>$<key b64>` (fresh 16-byte
salt, 32-byte key) and only that string goes to the database; a typed password becomes the key derived
with the salt and cost the database returns for that account (api.login_begin), which the database
compares with the stored key. Passwords are NFKC-normalised first (NIST SP 800-63B), so the same text
typed on two keyboards matches. The length rule (8-200 characters) is checked here, before hashing,
because only the gateway ever sees the password. Nothing in this module logs. See docs/accounts.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Mapping
from typing import Any

MIN_LENGTH = 8
MAX_LENGTH = 200
DEFAULT_LOG2_N = 14  # N = 16384, r = 8: 16 MiB and ~50 ms per hash
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_MEMORY = 1 << 30  # refuse parameters (from the database) that would need more than 1 GiB


class PasswordError(ValueError):
    """A password the gateway refuses before hashing: 400 VALIDATION_ERROR naming `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def typed(value: Any, field: str) -> str | None:
    """A password typed to prove who one is (login, current password): None when absent or null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PasswordError(field, f"{field} must be a string")
    return value


def new(value: Any, field: str) -> str | None:
    """A password being set: None when absent or null; else a string of 8-200 characters (after NFKC)."""
    password = typed(value, field)
    if password is not None and not MIN_LENGTH <= len(unicodedata.normalize("NFKC", password)) <= MAX_LENGTH:
        raise PasswordError(field, f"{field} must be between {MIN_LENGTH} and {MAX_LENGTH} characters")
    return password


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        unicodedata.normalize("NFKC", password).encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=128 * n * r * (p + 1) + (1 << 20),
        dklen=KEY_BYTES,
    )


def hash_password(password: str, log2_n: int = DEFAULT_LOG2_N) -> str:
    """The string stored for a new password: scrypt$N$r$p$salt$key (salt and key base64)."""
    n, salt = 1 << log2_n, os.urandom(SALT_BYTES)
    key = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def derive_key(password: str, kdf: Mapping[str, Any]) -> str:
    """The base64 key of `password` under an account's stored parameters ({algorithm, n, r, p, salt})."""
    n, r, p = (kdf.get(k) for k in ("n", "r", "p"))
    if kdf.get("algorithm") != "scrypt" or not all(isinstance(v, int) and v > 0 for v in (n, r, p)):
        raise ValueError("unsupported password parameters")
    assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
    if n & (n - 1) or 128 * n * r * p > MAX_MEMORY:
        raise ValueError("unsupported password parameters")
    try:
        salt = base64.b64decode(str(kdf.get("salt")), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("unsupported password parameters") from None
    return _b64(_scrypt(password, salt, n, r, p))


def verify(password: str, stored: str) -> bool:
    """Does `password` match a stored hash string? (The database does this comparison for requests; this is
    for tools and tests.)"""
    _, n, r, p, salt, key = stored.split("$")
    derived = derive_key(password, {"algorithm": "scrypt", "n": int(n), "r": int(r), "p": int(p), "salt": salt})
    return hmac.compare_digest(derived, key)
