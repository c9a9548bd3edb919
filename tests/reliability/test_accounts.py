"""Optional passwords and login rate limits through the real app and a real database.

Signup and login with and without a password, AUTH_REQUIRE_PASSWORD, the password change route, the 429s
(per email, per client address, with Retry-After), the password never in a log line or a response, and a
deleted user's token refused. Hashing runs at the default cost (scrypt N=2**14): a few dozen hashes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from starlette.testclient import TestClient

from gateway import passwords
from gateway.app import create_app
from gateway.settings import load
from tests._http import USER, assert_error, assert_shape, bearer, new_email, signup
from tests._report import Report
from tests.conftest import SECRET

from ._stack import Stack

PASSWORD = "Corr3ct horse battery staple ✓"
RATE_LIMITED = "Too many login attempts, please try again later"


class Counting:
    """A TestClient wrapper that counts requests, keeps every response text (to search for secrets) and counts
    the responses that broke a guarantee (a 5xx, or an error body without success:false/error/code)."""

    def __init__(self, client: TestClient):
        self.client = client
        self.requests = 0
        self.failures = 0
        self.texts: list[str] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.client.request(method, path, **kwargs)
        self.requests += 1
        self.texts.append(r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items()))
        body = r.json()
        if r.status_code >= 500 or (r.status_code >= 400 and not (body.get("success") is False and body.get("code"))):
            self.failures += 1
        return r

    def login(self, email: str, password: Any = None, **kw: Any) -> Any:
        body = {"email": email} if password is None else {"email": email, "password": password}
        return self("POST", "/api/auth/login", json=body, **kw)


@contextmanager
def app(url: str, **env: str) -> Iterator[TestClient]:
    settings = load({"DATABASE_URL": url, "JWT_SECRET": SECRET, **env})
    with TestClient(create_app(settings, url, SECRET)) as c:
        yield c


def login_body(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"success", "token", "user", "userExists"}, body
    assert_shape(body, {"success": True, "token": str, "user": USER, "userExists": True})
    return body


def test_signup_and_login_with_and_without_password(
    client: TestClient, report: Report, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    http = Counting(client)
    # no password: the legacy contract, unchanged
    plain = new_email()
    r = http("POST", "/api/auth/signup", json={"email": plain})
    assert r.status_code == 201 and set(r.json()) == {"success", "token", "user"}, r.text
    assert login_body(http.login(plain))["user"]["email"] == plain
    # with a password: stored hashed, required from now on
    email = new_email()
    r = http("POST", "/api/users", json={"email": email, "nickname": "Pat", "password": PASSWORD})
    assert r.status_code == 201 and set(r.json()) == {"success", "token", "user"}, r.text
    user = r.json()["user"]
    assert_error(http.login(email), 401, "Password is required for this account", "PASSWORD_REQUIRED")
    assert_error(http.login(email, PASSWORD + "x"), 401, "Invalid email or password", "INVALID_CREDENTIALS")
    assert_error(http.login(email, ""), 401, "Invalid email or password", "INVALID_CREDENTIALS")
    body = login_body(http.login(f"  {email.upper()} ", PASSWORD))
    assert body["user"] == user
    assert http("GET", "/api/users/me", headers=bearer(body["token"])).json()["user"]["id"] == user["id"]
    # the same text typed in another Unicode form (NFKC) is the same password
    assert login_body(http.login(email, PASSWORD.replace("3", "\uff13")))["user"]["id"] == user["id"]
    # a password for an account without one is refused, not ignored
    assert_error(http.login(plain, PASSWORD), 401, "Invalid email or password", "INVALID_CREDENTIALS")
    # the length rule, before hashing; nothing is created
    for bad, message in [
        ("short", "password must be between 8 and 200 characters"),
        ("x" * 201, "password must be between 8 and 200 characters"),
        (12345678, "password must be a string"),
        (["a" * 10], "password must be a string"),
    ]:
        other = new_email()
        body = assert_error(
            http("POST", "/api/auth/signup", json={"email": other, "password": bad}), 400, message, "VALIDATION_ERROR"
        )
        assert body["field"] == "password"
        assert_error(http.login(other), 404, "User not found. Please sign up first.", "USER_NOT_FOUND")
    assert_error(http.login(email, 42), 400, "password must be a string", "VALIDATION_ERROR")
    # a client cannot hand the database its own hash or key: the gateway always overwrites them
    forged, forged_email = passwords.hash_password("attacker-chosen", 10), new_email()
    assert http("POST", "/api/auth/signup", json={"email": forged_email, "password_hash": forged}).status_code == 201
    assert login_body(http.login(forged_email))  # no password was stored
    key = forged.rsplit("$", 1)[1]
    r = http("POST", "/api/auth/login", json={"email": email, "password_key": key, "password_given": True})
    assert_error(r, 401, "Password is required for this account", "PASSWORD_REQUIRED")

    assert PASSWORD not in caplog.text and "scrypt$" not in caplog.text
    assert not [t for t in http.texts if PASSWORD in t or "scrypt$" in t or "salt" in t]
    assert "POST /api/auth/login 200" in caplog.text  # the request log did run
    report(requests=http.requests, failures=http.failures, note="signup/login ± password")
    assert http.failures == 0


def test_require_password(gateway_url: str, report: Report) -> None:
    with app(gateway_url) as legacy_client:
        legacy = new_email()
        signup(legacy_client, legacy)
    with app(gateway_url, AUTH_REQUIRE_PASSWORD="true") as client:
        http = Counting(client)
        email = new_email()
        body = assert_error(
            http("POST", "/api/auth/signup", json={"email": email}), 400, "Password is required", "VALIDATION_ERROR"
        )
        assert body["field"] == "password"
        assert http("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD}).status_code == 201
        assert_error(http.login(email), 401, "Password is required for this account", "PASSWORD_REQUIRED")
        assert login_body(http.login(email, PASSWORD))["user"]["email"] == email
        # an account made before the switch has no password: refused until one is set (docs/accounts.md)
        r = http.login(legacy)
        assert_error(r, 401, "A password is required, but none is set for this account", "PASSWORD_NOT_SET")
        assert_error(http.login(new_email()), 404, "User not found. Please sign up first.", "USER_NOT_FOUND")
    with pytest.raises(ValueError, match="AUTH_REQUIRE_PASSWORD"):
        load({"AUTH_REQUIRE_PASSWORD": "sometimes"})
    report(requests=http.requests, failures=http.failures, note="AUTH_REQUIRE_PASSWORD=true")
    assert http.failures == 0


def test_password_change(client: TestClient, report: Report, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    http = Counting(client)
    token, user = signup(client)
    h = bearer(token)
    put: Callable[..., Any] = lambda body, headers=h: http("PUT", "/api/users/password", headers=headers, json=body)  # noqa: E731
    assert_error(put({"new_password": PASSWORD}, {}), 401, "Access token required", "AUTH_REQUIRED")
    assert_error(put({}), 400, "new_password is required", "VALIDATION_ERROR")
    assert_error(put({"new_password": "short"}), 400, "new_password must be between 8 and 200 characters")
    r = put({"new_password": PASSWORD})
    assert r.status_code == 200 and r.json()["message"] == "Password set successfully", r.text
    assert set(r.json()) == {"success", "message", "password_set_at"}
    assert_error(http.login(user["email"]), 401, code="PASSWORD_REQUIRED")
    new = "another long passphrase"
    assert_error(put({"new_password": new}), 400, "current_password is required", "VALIDATION_ERROR")
    assert_error(put({"new_password": new, "current_password": "wrong one!"}), 403, "Current password is incorrect")
    r = put({"new_password": new, "current_password": PASSWORD})
    assert r.status_code == 200 and r.json()["message"] == "Password changed successfully", r.text
    assert_error(http.login(user["email"], PASSWORD), 401, code="INVALID_CREDENTIALS")
    assert login_body(http.login(user["email"], new))["user"]["id"] == user["id"]
    assert PASSWORD not in caplog.text and new not in caplog.text
    assert not [t for t in http.texts if PASSWORD in t or new in t or "scrypt$" in t]
    report(requests=http.requests, failures=http.failures, note="PUT /api/users/password")
    assert http.failures == 0


def test_email_rate_limit(client: TestClient, report: Report) -> None:
    http = Counting(client)
    email = new_email()
    http("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD})
    for _ in range(5):
        assert_error(http.login(email, "not the password"), 401, "Invalid email or password")
    r = http.login(email, PASSWORD)  # even the right password: the email is locked for the window
    body = assert_error(r, 429, RATE_LIMITED, "RATE_LIMITED")
    assert set(body) == {"success", "error", "code", "retry_after"}, body
    assert 1 <= body["retry_after"] <= 15 * 60 + 1, body
    assert r.headers["retry-after"] == str(body["retry_after"])
    # another email from the same address is not affected
    other = new_email()
    signup(client, other)
    assert login_body(http.login(other))["user"]["email"] == other
    report(requests=http.requests, failures=http.failures, note="5 failures/email/15 min")
    assert http.failures == 0


def test_client_address_rate_limit(gateway_url: str, report: Report) -> None:
    with app(gateway_url) as client:
        http = Counting(client)
        email = new_email()
        signup(client, email)
        for _ in range(20):  # enumeration: unknown emails from one address
            assert_error(http.login(new_email()), 404, code="USER_NOT_FOUND")
        assert_error(http.login(email), 429, RATE_LIMITED, "RATE_LIMITED")
        # X-Forwarded-For is not trusted by default: a forged header changes nothing
        assert_error(http.login(email, headers={"X-Forwarded-For": "198.51.100.7"}), 429, code="RATE_LIMITED")
    with app(gateway_url, AUTH_TRUST_X_FORWARDED_FOR="true") as proxied:
        behind = Counting(proxied)
        r = behind.login(email, headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.7"})
        assert login_body(r)["user"]["email"] == email
        assert_error(behind.login(email), 429, code="RATE_LIMITED")  # no header: the proxy's own address
    total = http.requests + behind.requests
    report(requests=total, failures=http.failures + behind.failures, note="20 failures/address/15 min")
    assert http.failures + behind.failures == 0


def test_deleted_user_token_is_refused(client: TestClient, postgresql: psycopg.Connection, report: Report) -> None:
    http = Counting(client)
    email = new_email()
    r = http("POST", "/api/auth/signup", json={"email": email, "password": PASSWORD})
    token, uid = r.json()["token"], r.json()["user"]["id"]
    assert login_body(http.login(email, PASSWORD))
    with postgresql.cursor() as cur:
        cur.execute("SELECT core.erase_user(%s::uuid, 'test')", [uid])
        cur.execute(
            "SELECT (SELECT count(*) FROM public.user_credentials), "
            "(SELECT count(*) FROM public.login_attempts WHERE email = %s)",
            [email],
        )
        assert cur.fetchone() == (0, 0)
    postgresql.commit()
    assert_error(http("GET", "/api/users/me", headers=bearer(token)), 404, "User not found", "USER_NOT_FOUND")
    r = http("PUT", "/api/users/password", headers=bearer(token), json={"new_password": PASSWORD})
    assert_error(r, 404, "User not found", "USER_NOT_FOUND")
    assert_error(http.login(email, PASSWORD), 404, "User not found. Please sign up first.")
    report(requests=http.requests, failures=http.failures, note="erased user")
    assert http.failures == 0


def test_real_server_ignores_forwarded_for(report: Report) -> None:
    """Through uvicorn itself (not TestClient): a forged X-Forwarded-For from loopback must not move the count
    to another address (uvicorn trusts it from 127.0.0.1 unless proxy_headers is off)."""
    with Stack() as s, httpx.Client(base_url=s.base_url, timeout=10) as http:
        statuses = [
            http.post(
                "/api/auth/login",
                json={"email": new_email()},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},  # a new address each time, were it trusted
            ).status_code
            for i in range(21)
        ]
    report(requests=len(statuses), failures=statuses.count(500), note="forged X-Forwarded-For, real uvicorn")
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429  # all 21 counted against the one real address
