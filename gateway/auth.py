"""JWT (HS256 only). Signing happens here; the database trusts only the claims the gateway sets.

A token is accepted when: the header is `Bearer <jwt>`, the JWT is at most MAX_TOKEN_CHARS long,
its header says HS256 and its signature checks with JWT_SECRET, it carries `exp` (an integer, in the future:
no leeway for expiry), any `iat`/`nbf` is no more than CLOCK_SKEW_S seconds ahead of our clock (a token
issued "in the future" beyond that is forged or from a broken clock), and it names a user by `id` or
`email` (strings). Anything else is 401 (no token) or 403 `Invalid or expired token`, never a 500.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

ALGORITHM = "HS256"
TOKEN_DAYS = 30
CLOCK_SKEW_S = 60  # how far ahead of our clock a token's iat/nbf may be (another server's clock)
MAX_TOKEN_CHARS = 8192  # ours are ~250 characters; a longer one is refused before it is decoded


class AuthError(Exception):
    """A request's credentials were refused: `status` and `message` follow docs/api.md, "Conventions"."""

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
    return _decode(secret, _bearer(authorization))


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise MISSING
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MISSING
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise INVALID
    return token


def _decode(secret: str, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            leeway=CLOCK_SKEW_S,  # for iat and nbf only: exp is checked below, strictly
            options={"require": ["exp"], "verify_exp": False},
        )
        expired = int(claims["exp"]) <= time.time()
    # PyJWT's own errors; and what a hostile header can make its JSON parsing raise (deep nesting)
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError):
        raise INVALID from None
    if expired:
        raise INVALID
    if not isinstance(claims.get("email"), str) and not isinstance(claims.get("id"), str):
        raise INVALID
    return claims


class Verifier:
    """`verify` with a bounded memory of tokens that passed every check, each with its `exp`, which is checked
    again (strictly) on every use. A client sends the same token with each request: a repeat costs a dict
    lookup instead of the HMAC and the base64/JSON decoding (~0.1 ms, a tenth of a cheap request's gateway CPU;
    bench/README.md). Only verified tokens are kept (nobody can fill the memory without the secret); the oldest
    entry goes when it is full. The claims returned are a fresh copy on every call."""

    def __init__(self, secret: str, max_tokens: int = 4096):
        self.secret = secret
        self.max_tokens = max_tokens
        self._verified: dict[str, tuple[dict[str, Any], int]] = {}
        self.hits = 0  # tokens found here (what /metrics reports as the cache's effect)
        self.misses = 0

    def verify(self, authorization: str | None) -> dict[str, Any]:
        token = _bearer(authorization)
        hit = self._verified.get(token)
        if hit is not None:
            self.hits += 1
            claims, exp = hit
            if exp > time.time():
                return dict(claims)
            del self._verified[token]
            raise INVALID
        self.misses += 1
        claims = _decode(self.secret, token)
        if len(self._verified) >= self.max_tokens:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (dict(claims), int(claims["exp"]))  # int: any size compares with time.time()
        return claims
