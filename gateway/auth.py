"""JWT (HS256 only). Signing happens here; the database trusts only the claims the gateway sets."""

from __future__ import annotations

import time
from typing import Any

import jwt

ALGORITHM = "HS256"
TOKEN_DAYS = 30


class AuthError(Exception):
    """A request's credentials were refused: `status` and `message` follow contract §0."""

    def __init__(self, status: int, message: str, code: str):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


MISSING = AuthError(401, "Access token required", "AUTH_REQUIRED")
INVALID = AuthError(403, "Invalid or expired token", "INVALID_TOKEN")


def sign(secret: str, claims: dict[str, Any], *, days: int = TOKEN_DAYS, now: int | None = None) -> str:
    """A token for `claims` (id, email, nickname…) with iat and exp set."""
    iat = int(time.time()) if now is None else now
    payload = {**claims, "iat": iat, "exp": iat + days * 86400}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(secret: str, authorization: str | None) -> dict[str, Any]:
    """Claims of a valid `Authorization: Bearer <jwt>` header, else AuthError (401 or 403)."""
    if not authorization:
        raise MISSING
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MISSING
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp"]},
        )
    except jwt.PyJWTError:
        raise INVALID from None
    if not isinstance(claims.get("email"), str) and not isinstance(claims.get("id"), str):
        raise INVALID
    return claims
