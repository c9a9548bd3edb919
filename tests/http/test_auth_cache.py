"""gateway.auth.Verifier: a token verified once is remembered, but never past its exp, never for another
secret, and never altered by what a caller does with the claims it got."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway import auth

SECRET = "verifier-secret-" + "x" * 32


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_remembered_token_still_expires() -> None:
    verifier = auth.Verifier(SECRET)
    exp = int(time.time()) + 1
    token = jwt.encode({"email": "a@example.com", "exp": exp}, SECRET, algorithm="HS256")
    assert verifier.verify(bearer(token))["email"] == "a@example.com"
    assert verifier.verify(bearer(token))["email"] == "a@example.com"  # from memory
    while time.time() < exp:
        time.sleep(0.05)
    with pytest.raises(auth.AuthError) as err:
        verifier.verify(bearer(token))
    assert err.value.status == 403
    with pytest.raises(auth.AuthError):  # forgotten, and refused again by the full check
        verifier.verify(bearer(token))


def test_only_verified_tokens_are_remembered_and_the_memory_is_bounded() -> None:
    verifier = auth.Verifier(SECRET, max_tokens=3)
    forged = jwt.encode({"email": "b@example.com", "exp": int(time.time()) + 60}, "another-secret" * 3, "HS256")
    for _ in range(2):
        with pytest.raises(auth.AuthError):
            auth.Verifier(SECRET).verify(bearer(forged))
        with pytest.raises(auth.AuthError):
            verifier.verify(bearer(forged))
    tokens = [auth.sign(SECRET, {"email": f"u{i}@example.com"}) for i in range(5)]
    for i, token in enumerate(tokens):
        assert verifier.verify(bearer(token))["email"] == f"u{i}@example.com"
    assert len(verifier._verified) == 3
    assert set(verifier._verified) == set(tokens[2:])  # the oldest went first
    assert verifier.verify(bearer(tokens[0]))["email"] == "u0@example.com"  # verified again in full


def test_claims_are_a_fresh_copy_each_time() -> None:
    verifier = auth.Verifier(SECRET)
    token = auth.sign(SECRET, {"email": "c@example.com"})
    first = verifier.verify(bearer(token))
    first["email"] = "someone-else@example.com"
    assert verifier.verify(bearer(token))["email"] == "c@example.com"


def test_same_answers_as_verify_for_bad_headers() -> None:
    verifier = auth.Verifier(SECRET)
    token = auth.sign(SECRET, {"email": "d@example.com"})
    for header in (None, "", "Bearer", "Basic abc", f"Bearer {token[:-2]}xx", "Bearer " + "a" * 9000):
        with pytest.raises(auth.AuthError) as expected:
            auth.verify(SECRET, header)
        with pytest.raises(auth.AuthError) as got:
            verifier.verify(header)
        assert (got.value.status, got.value.code) == (expected.value.status, expected.value.code)
