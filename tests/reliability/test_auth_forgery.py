"""Forged, stolen and malformed tokens against a representative set of routes.

Every forgery is refused with 403 `Invalid or expired token` (INVALID_TOKEN); no header, an empty one or
another scheme is 401 `Access token required`; nothing is ever a 5xx and nothing the victim owns changes.
Forgeries: alg none (any spelling, with or without a signature part), HS256 with a wrong secret, other HMAC
algorithms with the right secret, RS256/ES256 headers (with junk signatures, and "signed" with the secret as an
HMAC key: the key-confusion attack), a valid signature spliced onto other claims, expired (by one second),
missing or non-numeric exp, iat/nbf in the future beyond gateway.auth.CLOCK_SKEW_S, malformed base64 and JSON,
extra or missing dots, a 100 KB token and a deeply nested header. A token of a user who was erased is
refused by every route with 404 `User not found`, also after someone signs up again with the same email.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import psycopg

from gateway import auth
from gateway.routes import ROUTES
from tests._http import assert_error, bearer
from tests._report import Report
from tests.conftest import SECRET

from ._world import World, world

__all__ = ["world"]  # the fixture, imported for pytest

INVALID = (403, "Invalid or expired token", "INVALID_TOKEN")
MISSING = (401, "Access token required", "AUTH_REQUIRED")
WRONG_SECRET = "not-the-secret-" + "q" * 40


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def craft(
    header: dict[str, Any] | str, payload: dict[str, Any] | str, key: str | None = None, alg: str = "sha256"
) -> str:
    """A JWT by hand: header and payload as given (dicts are JSON-encoded), an HMAC signature with `key`
    (none when key is None: an empty third part)."""
    h = b64(header if isinstance(header, str) else json.dumps(header))
    p = b64(payload if isinstance(payload, str) else json.dumps(payload))
    signing_input = f"{h}.{p}".encode()
    signature = b64(hmac.new(key.encode(), signing_input, getattr(hashlib, alg)).digest()) if key else ""
    return f"{h}.{p}.{signature}"


def probes(w: World, victim: str = "b") -> list[tuple[str, str, Any]]:
    """(method, path, json body) of the representative routes, aimed at the victim's ids."""
    v = w.users[victim]
    return [
        ("GET", f"/api/checkins/{v['checkin_id']}", None),
        ("PUT", f"/api/checkins/{v['checkin_id']}", {"mood_today": "hacked"}),
        ("DELETE", f"/api/checkins/{v['checkin_id']}", None),
        ("GET", "/api/checkins", None),
        ("GET", "/api/v2/health/timeline", None),
        ("POST", "/api/v2/health/events", {"event_type": "note", "event_data": {"text": "planted"}}),
        ("GET", "/api/insights", None),
        ("POST", "/api/insights/feedback", {"insight_id": v["insight_id"], "helpful": False}),
        ("GET", "/api/users/me", None),
        ("PUT", "/api/users/me", {"nickname": "hacked"}),
    ]


def forgeries(w: World) -> dict[str, str]:
    """name -> Authorization header value of a forged or malformed token (all must be 403)."""
    b = w.users["b"]
    now = int(time.time())
    claims = {"id": b["id"], "email": b["email"], "nickname": "B", "iat": now, "exp": now + 3600}
    valid_a = w.users["a"]["token"]
    a_header, a_payload, a_signature = valid_a.split(".")
    out = {
        "wrong secret": auth.sign(WRONG_SECRET, {"id": b["id"], "email": b["email"]}),
        "wrong secret, email only": auth.sign(WRONG_SECRET, {"email": b["email"]}),
        "empty secret": craft({"alg": "HS256", "typ": "JWT"}, claims, key="\x00")[:-1],
        "HS384 right secret": craft({"alg": "HS384", "typ": "JWT"}, claims, SECRET, "sha384"),
        "HS512 right secret": craft({"alg": "HS512", "typ": "JWT"}, claims, SECRET, "sha512"),
        "RS256 junk signature": craft({"alg": "RS256", "typ": "JWT"}, claims) + b64(b"\x01" * 256),
        "ES256 junk signature": craft({"alg": "ES256", "typ": "JWT"}, claims) + b64(b"\x02" * 64),
        "RS256 signed as HMAC with the secret (key confusion)": craft({"alg": "RS256", "typ": "JWT"}, claims, SECRET),
        "PS256 signed as HMAC with the secret": craft({"alg": "PS256"}, claims, SECRET),
        "HS256 with jku/kid pointing elsewhere, wrong key": craft(
            {"alg": "HS256", "kid": "../../dev/null", "jku": "https://evil.example/jwks.json"}, claims, "k" * 40
        ),
        "A's signature on B's claims": f"{a_header}.{b64(json.dumps(claims))}.{a_signature}",
        "A's token, payload re-encoded with B's id": ".".join(
            [
                a_header,
                b64(json.dumps({**json.loads(base64.urlsafe_b64decode(a_payload + "==")), "id": b["id"]})),
                a_signature,
            ]
        ),
        "A's token, signature truncated": valid_a[:-4],
        "A's token, signature flipped": valid_a[:-2] + ("AA" if not valid_a.endswith("AA") else "BB"),
        "A's token, header alg none": f"{b64(json.dumps({'alg': 'none'}))}.{a_payload}.",
        "expired one second ago": craft({"alg": "HS256"}, {**claims, "iat": now - 100, "exp": now - 1}, SECRET),
        "expired in 1970": auth.sign(SECRET, {"id": b["id"]}, now=1_000_000),
        "no exp": craft({"alg": "HS256"}, {"id": b["id"], "email": b["email"], "iat": now}, SECRET),
        "exp null": craft({"alg": "HS256"}, {**claims, "exp": None}, SECRET),
        "exp a word": craft({"alg": "HS256"}, {**claims, "exp": "tomorrow"}, SECRET),
        "exp a list": craft({"alg": "HS256"}, {**claims, "exp": [now + 3600]}, SECRET),
        "exp Infinity": craft({"alg": "HS256"}, json.dumps(claims).replace(str(now + 3600), "Infinity"), SECRET),
        "exp NaN": craft({"alg": "HS256"}, json.dumps(claims).replace(str(now + 3600), "NaN"), SECRET),
        "iat an hour ahead": craft({"alg": "HS256"}, {**claims, "iat": now + 3600, "exp": now + 7200}, SECRET),
        f"iat {auth.CLOCK_SKEW_S + 30} s ahead": craft(
            {"alg": "HS256"}, {**claims, "iat": now + auth.CLOCK_SKEW_S + 30}, SECRET
        ),
        "iat a word": craft({"alg": "HS256"}, {**claims, "iat": "now"}, SECRET),
        "nbf an hour ahead": craft({"alg": "HS256"}, {**claims, "nbf": now + 3600}, SECRET),
        "no identity": craft({"alg": "HS256"}, {"nickname": "x", "exp": now + 3600}, SECRET),
        "identity not a string": craft(
            {"alg": "HS256"}, {"id": 42, "email": ["b@example.com"], "exp": now + 60}, SECRET
        ),
        "payload a JSON array": craft({"alg": "HS256"}, "[1,2,3]", SECRET),
        "payload not JSON": craft({"alg": "HS256"}, "{'id': 1}", SECRET),
        "header not JSON": craft("{alg:HS256}", claims, SECRET),
        "header a JSON string": craft('"HS256"', claims, SECRET),
        "header deeply nested": craft("[" * 3000 + "]" * 3000, claims, SECRET),
        "header 100 KB, signed with the secret (refused by length)": craft(
            {"alg": "HS256", "pad": "x" * 100_000}, claims, SECRET
        ),
        "bad base64": "!!!.###.$$$",
        "base64 with padding and spaces": f"{a_header}==.{a_payload} .{a_signature}",
        "two parts": f"{a_header}.{a_payload}",
        "one part": a_header,
        "four parts": valid_a + ".extra",
        "trailing dot": valid_a + ".",
        "dots only": "...",
        "NUL inside": valid_a[:10] + "\x00" + valid_a[10:],
        "non-ASCII": valid_a + "é",
    }
    for spelling in ("none", "None", "NONE", "nOnE"):
        out[f"alg {spelling}, no signature"] = craft({"alg": spelling, "typ": "JWT"}, claims)
        out[f"alg {spelling}, signature kept"] = craft({"alg": spelling}, claims) + a_signature
    return {name: f"Bearer {token}" for name, token in out.items()}


MISSING_HEADERS = {
    "no header": None,
    "empty": "",
    "Bearer alone": "Bearer",
    "Bearer and spaces": "Bearer    ",
    "Basic scheme": "Basic YTpi",
    "Token scheme": "Token abc",
}


def test_forged_tokens_refused(world: World, report: Report) -> None:
    before = world.snapshot("b")
    failures = []
    tokens = forgeries(world)
    for name, authorization in tokens.items():
        for method, path, body in probes(world):
            r = world.send(method, path, body, authorization)
            try:
                assert_error(r, *INVALID)
            except AssertionError as err:
                failures.append(f"{name}: {method} {path}: {err}")
    for name, authorization in MISSING_HEADERS.items():
        for method, path, body in probes(world):
            r = world.send(method, path, body, authorization)
            try:
                assert_error(r, *MISSING)
            except AssertionError as err:
                failures.append(f"{name}: {method} {path}: {err}")
    report(
        requests=world.requests,
        failures=len(failures) + len(world.server_errors),
        note=f"{len(tokens)} forgeries + {len(MISSING_HEADERS)} missing x {len(probes(world))} routes",
    )
    assert not world.server_errors, world.server_errors[:5]
    assert not failures, "\n".join(failures[:10])
    assert world.snapshot("b") == before, "B's data changed"


def test_clock_skew_leeway(world: World) -> None:
    """iat/nbf up to CLOCK_SKEW_S ahead are accepted (clocks differ a little); exp gets no leeway."""
    b = world.users["b"]
    now = int(time.time())
    ok = craft({"alg": "HS256"}, {"id": b["id"], "iat": now + auth.CLOCK_SKEW_S - 20, "exp": now + 600}, SECRET)
    assert world.send("GET", "/api/users/me", None, f"Bearer {ok}").status_code == 200
    ok = craft({"alg": "HS256"}, {"id": b["id"], "nbf": now + 20, "exp": now + 600}, SECRET)
    assert world.send("GET", "/api/users/me", None, f"Bearer {ok}").status_code == 200
    # an operator-minted token: only email and exp, signed with the secret
    ok = craft({"alg": "HS256", "typ": "JWT"}, {"email": b["email"], "exp": now + 600}, SECRET)
    assert world.send("GET", "/api/users/me", None, f"Bearer {ok}").json()["user"]["id"] == b["id"]
    # lower-case scheme and extra spaces are still a bearer token
    assert world.send("GET", "/api/users/me", None, f"bearer   {b['token']}").status_code == 200
    late = craft({"alg": "HS256"}, {"id": b["id"], "exp": now - 1}, SECRET)
    assert_error(world.send("GET", "/api/users/me", None, f"Bearer {late}"), *INVALID)


def test_stolen_token_of_an_erased_user(world: World, db_url: str, report: Report) -> None:
    """After erasure, the user's still-valid token is refused by every route that needs a user (404 User not
    found), and it does not reach a new account opened later with the same email (the token's id wins)."""
    c = world.client.post("/api/auth/signup", json={"email": "c@example.com"}).json()
    stolen = c["token"]
    checkin = world.client.post(
        "/api/checkins", json={"mood_today": "ok", "confidence_today": 5}, headers=bearer(stolen)
    )
    assert checkin.status_code == 201
    checkin_id = checkin.json()["checkin"]["id"]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT core.erase_user(%s, 'test: stolen token')", (c["user"]["id"],))
    requests_before = world.requests
    failures = []

    def sweep() -> None:
        for route in ROUTES:
            if route.auth != "required":
                continue
            path = route.path.replace("{id}", checkin_id)
            body = {} if route.method in {"POST", "PUT", "PATCH"} else None
            r = world.send(route.method, path, body, f"Bearer {stolen}")
            try:
                assert_error(r, 404, "User not found", "USER_NOT_FOUND")
            except AssertionError as err:
                failures.append(f"{route.method} {route.path}: {err}")

    sweep()
    # someone opens a new account with the same email: the stolen token (it carries the old id) stays dead
    again = world.client.post("/api/auth/signup", json={"email": "c@example.com"})
    assert again.status_code == 201 and again.json()["user"]["id"] != c["user"]["id"]
    sweep()
    new_token = again.json()["token"]
    assert world.client.get("/api/checkins", headers=bearer(new_token)).json()["count"] == 0
    report(requests=world.requests - requests_before, failures=len(failures) + len(world.server_errors))
    assert not world.server_errors, world.server_errors[:5]
    assert not failures, "\n".join(failures[:10])


def test_huge_authorization_header(world: World) -> None:
    """A 1 MB header value and a million-dot token: 403, quickly, never a 5xx."""
    for token in ("a" * 1_000_000, "." * 100_000, "eyJ" * 300_000):
        started = time.perf_counter()
        r = world.send("GET", "/api/users/me", None, f"Bearer {token}")
        assert_error(r, *INVALID)
        assert time.perf_counter() - started < 2
    assert not world.server_errors


def test_unknown_ids_in_valid_tokens(world: World) -> None:
    """A valid signature on claims naming nobody: 404 User not found (not someone else)."""
    for claims in ({"id": str(uuid.uuid4())}, {"email": "nobody@example.com"}, {"id": "x", "email": "n@example.com"}):
        r = world.send("GET", "/api/checkins", None, f"Bearer {auth.sign(SECRET, claims)}")
        assert_error(r, 404, "User not found", "USER_NOT_FOUND")
    # an id naming B and an email naming A: the id wins (tokens we issue always carry both, consistently)
    mixed = auth.sign(SECRET, {"id": world.users["b"]["id"], "email": world.users["a"]["email"]})
    assert world.send("GET", "/api/users/me", None, f"Bearer {mixed}").json()["user"]["id"] == world.users["b"]["id"]
