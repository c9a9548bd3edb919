"""Hostile JSON through the real app on a real database: nothing yields a 5xx, nothing is silently altered.

Each property is a hypothesis test with an explicit example count (`scale`: fast in make test, full in
make test-reliability). Guarantees:
- injection-looking strings (SQL, JSON/NoSQL operators, printf and placeholder syntax, escapes) written into
  check-in free-text fields, string arrays, extra keys and event data come back through the API equal,
  character for character, and harm nothing (the tables are still there, the other user sees nothing);
- numbers come back with every digit (huge integers, 1e400, long decimals: equal as exact decimals; the
  lexical form may be normalised by jsonb: 1e400 is written out, -0.0 becomes 0.0); integers out of range,
  fractional values and non-numbers where an integer goes are a 400 naming the field;
- what PostgreSQL cannot store is refused with a clear 400 before any call: NUL in a string or a key and lone
  surrogates (`Invalid JSON body: a string holds NUL ...`), invalid UTF-8, NaN/Infinity, nesting deeper than
  100 levels; bodies over 64 KiB are a 413 (just under is accepted); nothing is written by a refused request;
- duplicate keys: the last one wins (as in PostgreSQL's jsonb), consistently.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import MAX_BODY, create_app
from gateway.settings import load
from tests._http import bearer, new_email
from tests._report import FULL, Report, scale
from tests.conftest import SECRET

INJECTIONS = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "1; DELETE FROM health_events WHERE true; --",
    "$$; SELECT pg_sleep(10); $$",
    "E'\\x00'",
    '{"$gt":""}',
    '{"$where": "sleep(1000)"}',
    '","user_id":"00000000-0000-0000-0000-000000000000',
    "\\u0000",  # the six characters backslash-u-0-0-0-0, not NUL
    "\\ud800",
    "%s%s%s%n",
    "$1",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "null",
    "\u202e\u200b\ufeff",  # bidi override, zero-width space, BOM
    "😀 emoji \U0010ffff",
    "line\nbreak\ttab\r\n",
    "\\",
    '"',
]


class Api:
    """A client on the real app (server errors become responses) counting requests and every 5xx."""

    def __init__(self, client: TestClient, token: str):
        self.client = client
        self.headers = bearer(token, **{"Content-Type": "application/json"})
        self.requests = 0
        self.server_errors: list[str] = []
        self.day = dt.date(2025, 12, 31)

    def send(self, method: str, path: str, raw: bytes | None = None, **kwargs: Any) -> Any:
        r = self.client.request(method, path, content=raw, headers={**self.headers, **kwargs.pop("headers", {})})
        self.requests += 1
        if r.status_code >= 500:
            self.server_errors.append(f"{method} {path} -> {r.status_code} {r.text[:200]} body={raw[:200]!r}")
        if r.status_code >= 400:
            body = r.json()
            assert body["success"] is False and isinstance(body["error"], str) and isinstance(body["code"], str), body
        return r

    def post_json(self, path: str, value: Any) -> Any:
        return self.send("POST", path, json.dumps(value, ensure_ascii=False).encode())

    def next_day(self) -> str:
        """A fresh date_submitted for each check-in (one check-in per date)."""
        self.day -= dt.timedelta(days=1)
        return self.day.isoformat()

    def checkin_count(self) -> int:
        return int(self.send("GET", "/api/checkins?limit=100").json()["count"])


@pytest.fixture
def api(gateway_url: str) -> Iterator[Api]:
    settings = load({"DATABASE_URL": gateway_url, "JWT_SECRET": SECRET, "USE_SCHEMA_V2": "true"})
    app = create_app(settings, gateway_url, SECRET)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/auth/signup", json={"email": new_email()})
        assert r.status_code == 201, r.text
        yield Api(client, r.json()["token"])


def hypothesis_settings(fast: int, full: int) -> settings:
    return settings(
        max_examples=int(scale(fast, full)),
        deadline=None,
        database=None,
        derandomize=not FULL,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def finish(api: Api, report: Report, note: str) -> None:
    report(requests=api.requests, failures=len(api.server_errors), note=note)
    assert not api.server_errors, "\n".join(api.server_errors[:5])


# Strings PostgreSQL can store: any Unicode scalar value but NUL (hypothesis' text() excludes surrogates).
STORABLE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(INJECTIONS), STORABLE, st.tuples(st.sampled_from(INJECTIONS), STORABLE).map("".join)
)


# -------------------------------------------------------------------------------------- stored verbatim


def test_injection_strings_stored_verbatim(api: Api, report: Report) -> None:
    @hypothesis_settings(15, 200)
    @given(
        note=HOSTILE_TEXT,
        mood=HOSTILE_TEXT.filter(lambda s: s.strip()),
        items=st.lists(HOSTILE_TEXT, max_size=4),
        key=HOSTILE_TEXT.filter(lambda s: s.strip()),
        value=HOSTILE_TEXT,
    )
    def run(note: str, mood: str, items: list[str], key: str, value: str) -> None:
        mood = mood[:100]
        extra_key = "x_" + key  # never one of the contract's own fields
        body = {
            "mood_today": mood,
            "confidence_today": 6,
            "date_submitted": api.next_day(),
            "user_note": note,
            "primary_concern_today": value[:100],
            "side_effects": items,
            "coping_strategies_used": [note, value],
            extra_key: {"nested": value, "list": items},
        }
        r = api.post_json("/api/checkins", body)
        assert r.status_code == 201, r.text
        checkin_id = r.json()["checkin"]["id"]
        got = api.send("GET", f"/api/checkins/{checkin_id}").json()["checkin"]
        for field, sent in body.items():
            assert got[field] == sent, (field, sent, got.get(field))
            assert got["fields"][field] == sent, field
        # and the same strings in an event's data, read back through the timeline
        data = {"text": note or "-", "quote": value, key: items}
        r = api.post_json(
            "/api/v2/health/events", {"event_type": "note", "event_data": data, "event_subtype": value[:50]}
        )
        assert r.status_code == 201, r.text
        event_id = r.json()["event"]["id"]
        timeline = api.send("GET", "/api/v2/health/timeline?event_types=note&limit=1000").json()["timeline"]
        (event,) = [e for e in timeline if e["id"] == event_id]
        assert event["event_data"] == data
        assert event["event_subtype"] == value[:50] or (value[:50] == "" and event["event_subtype"] is None), event

    run()
    # nothing was dropped or rewritten by an "injection": the tables and this user's rows are intact
    assert api.checkin_count() >= 1
    assert api.send("GET", "/api/users/me").status_code == 200
    finish(api, report, "check-in text, arrays, extra keys, event data: read back equal")


def test_query_parameters_are_data(api: Api, report: Report) -> None:
    """Injection strings in query parameters are values to validate, never SQL: a 200 or a 400, never more."""

    @hypothesis_settings(15, 150)
    @given(value=HOSTILE_TEXT, param=st.sampled_from(["event_types", "start_date", "before", "limit", "timeframe"]))
    def run(value: str, param: str) -> None:
        path = "/api/v2/analytics" if param == "timeframe" else "/api/v2/health/timeline"
        r = api.client.get(path, params={param: value}, headers=api.headers)
        api.requests += 1
        assert r.status_code in (200, 400), (param, value, r.status_code, r.text[:200])
        if r.status_code == 400:
            assert r.json()["success"] is False and r.json()["code"], r.text

    run()
    finish(api, report, "timeline/analytics query parameters")


def test_unstorable_query_parameters_refused(api: Api, report: Report) -> None:
    """NUL in a query parameter (a name or a value) is refused by the gateway, saying why, before any call."""
    for params in ({"event_types": "mood\x00"}, {"limit\x00": "5"}, {"timeframe": "\x00"}):
        path = "/api/v2/analytics" if "timeframe" in params else "/api/v2/health/timeline"
        r = api.client.get(path, params=params, headers=api.headers)
        api.requests += 1
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "INVALID_INPUT", r.text
        assert "Invalid query parameter: a " in r.json()["error"] and "NUL" in r.json()["error"], r.text
    finish(api, report, "NUL in query names and values: 400 INVALID_INPUT")


# ------------------------------------------------------------------------------------------------ numbers

NUMBER_TEXTS = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.sampled_from(["1" + "0" * 400, "-" + "9" * 5000, "1e400", "1E-400", "-0", "-0.0", "0.000000000000000000001"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


def test_numbers_keep_every_digit(api: Api, report: Report) -> None:
    @hypothesis_settings(20, 300)
    @given(number=NUMBER_TEXTS)
    def run(number: str) -> None:
        raw = (
            f'{{"mood_today":"ok","confidence_today":5,"date_submitted":"{api.next_day()}",'
            f'"x_number":{number},"symptom_severity":{{"level":{number}}}}}'
        ).encode()
        r = api.send("POST", "/api/checkins", raw)
        if r.status_code == 400:  # beyond PostgreSQL's numeric (131072 digits before the point, 16383 after)
            assert r.json()["code"] == "INVALID_INPUT" and "numeric" in r.json()["details"], r.text
            return
        assert r.status_code == 201, r.text
        created = json.loads(r.text, parse_float=Decimal, parse_int=Decimal)["checkin"]
        got = api.send("GET", f"/api/checkins/{created['id']}").text
        back = json.loads(got, parse_float=Decimal, parse_int=Decimal)["checkin"]
        assert back["x_number"] == Decimal(number), (number, back["x_number"])
        assert back["symptom_severity"]["level"] == Decimal(number)

    run()
    finish(api, report, "huge/long numbers in extras and objects: equal as exact decimals")


@pytest.mark.parametrize(
    ("literal", "status", "fragment"),
    [
        ("10" + "0" * 400, 400, "confidence_today must be between 1 and 10"),
        ("-" + "1" * 400, 400, "confidence_today must be between 1 and 10"),
        ("9" * 5000, 400, "confidence_today must be between 1 and 10"),
        ("1e400", 400, "confidence_today"),
        ("5.5", 400, "confidence_today must be an integer"),
        ("5.0", 201, None),  # an integral number is an integer (JSON has one number type)
        ('"7"', 201, None),  # an integer string is accepted (docs/api.md)
        ('"7.0"', 400, "confidence_today"),
        ("true", 400, "confidence_today"),
        ("[5]", 400, "confidence_today"),
        ('{"$gt":0}', 400, "confidence_today"),
        ("NaN", 400, "Invalid JSON body"),
        ("Infinity", 400, "Invalid JSON body"),
        ("-Infinity", 400, "Invalid JSON body"),
    ],
)
def test_hostile_numbers_where_an_integer_goes(api: Api, literal: str, status: int, fragment: str | None) -> None:
    raw = f'{{"mood_today":"ok","confidence_today":{literal},"date_submitted":"{api.next_day()}"}}'.encode()
    r = api.send("POST", "/api/checkins", raw)
    assert r.status_code == status, r.text
    if fragment:
        assert fragment in r.json()["error"], r.text
    else:
        assert r.json()["checkin"]["confidence_today"] in (5, 7), r.text
    assert not api.server_errors


# ------------------------------------------------------------------------------------ refused, not altered


def _splice(text: str, insert: str, at: int) -> str:
    at = at % (len(text) + 1)
    return text[:at] + insert + text[at:]


UNSTORABLE = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc00\ud800"])


def test_unstorable_strings_refused(api: Api, report: Report) -> None:
    """NUL and lone surrogates, in a value or a key, at any depth, on every kind of write: 400, nothing written."""
    before = api.checkin_count()

    @hypothesis_settings(25, 300)
    @given(
        base=STORABLE,
        bad=UNSTORABLE,
        at=st.integers(0, 60),
        where=st.sampled_from(["value", "key", "nested", "array"]),
        route=st.sampled_from(["checkin", "event", "profile", "feedback"]),
    )
    def run(base: str, bad: str, at: int, where: str, route: str) -> None:
        s = _splice(base, bad, at)
        hostile: dict[str, Any] = {
            "value": {"user_note": s},
            "key": {s: 1},
            "nested": {"x_deep": {"a": [{"b": s}]}},
            "array": {"side_effects": ["ok", s]},
        }[where]
        path, body = {
            "checkin": ("/api/checkins", {"mood_today": "ok", "confidence_today": 5, **hostile}),
            "event": ("/api/v2/health/events", {"event_type": "note", "event_data": {"text": "t", **hostile}}),
            "profile": ("/api/users/me", {"nickname": "n", **hostile}),
            "feedback": ("/api/insights/feedback", {"insight_id": str(uuid.uuid4()), "helpful": True, **hostile}),
        }[route]
        # json.dumps writes NUL as \\u0000 and a lone surrogate as \\udXXX: exactly what a hostile client sends
        raw = json.dumps(body).encode()
        r = api.send("PUT" if route == "profile" else "POST", path, raw)
        assert r.status_code == 400, (route, where, r.text)
        error = r.json()["error"]
        assert r.json()["code"] == "INVALID_JSON", r.text
        assert error.startswith("Invalid JSON body: a ") and ("NUL" in error or "surrogate" in error), error

    run()
    assert api.checkin_count() == before, "a refused request wrote nothing"
    assert api.send("GET", "/api/users/me").json()["user"]["nickname"] is None
    finish(api, report, "NUL / lone surrogates in values, keys, arrays: 400 INVALID_JSON")


def test_invalid_utf8_refused(api: Api, report: Report) -> None:
    before = api.checkin_count()

    @hypothesis_settings(20, 300)
    @given(junk=st.binary(min_size=1, max_size=8), at=st.integers(0, 30))
    def run(junk: bytes, at: int) -> None:
        note = b"a perfectly fine note ok"
        at %= len(note) + 1
        raw = b'{"mood_today":"ok","confidence_today":5,"user_note":"' + note[:at] + junk + note[at:] + b'"}'
        try:
            raw.decode("utf-8")
            json.loads(raw)
        except ValueError:  # not UTF-8 or not JSON (a quote, a backslash, a control byte)
            r = api.send("POST", "/api/checkins", raw)
            assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON", r.text
            return
        # valid after all (e.g. ASCII letters): written normally on a fresh date, or refused by a rule
        raw = raw[:-1] + f',"date_submitted":"{api.next_day()}"}}'.encode()
        r = api.send("POST", "/api/checkins", raw)
        assert r.status_code in (201, 400), r.text
        if r.status_code == 201:
            assert r.json()["checkin"]["user_note"] == json.loads(raw)["user_note"]

    run()
    assert api.checkin_count() >= before
    finish(api, report, "invalid UTF-8 spliced into a string: 400 INVALID_JSON")


def test_nesting_depth(api: Api, report: Report) -> None:
    """Up to 100 levels (the body object is level 1) stored and read back; deeper: 400, however deep (a
    RecursionError in the parser is a 400 too, never a 500)."""

    @hypothesis_settings(12, 100)
    @given(levels=st.one_of(st.integers(1, 130), st.sampled_from([99, 100, 5_000, 30_000])), kind=st.sampled_from("[{"))
    def run(levels: int, kind: str) -> None:
        open_, close = ("[", "]") if kind == "[" else ('{"k":', "}")
        inner = open_ * levels + "1" + close * levels
        raw = f'{{"mood_today":"ok","confidence_today":5,"date_submitted":"{api.next_day()}","x_deep":{inner}}}'
        r = api.send("POST", "/api/checkins", raw.encode())
        if len(raw) > MAX_BODY:
            assert r.status_code == 413, r.text
        elif levels + 1 <= 100:
            assert r.status_code == 201, (levels, r.text)
            got = api.send("GET", f"/api/checkins/{r.json()['checkin']['id']}").json()["checkin"]["x_deep"]
            assert got == json.loads(inner)
        else:
            assert r.status_code == 400, (levels, r.text)
            message = r.json()["error"]
            if levels <= 500:
                assert message == "Invalid JSON body: JSON nested deeper than 100 levels", r.text
            else:  # past the parser's own recursion limit (~1000 levels) the reason is not named
                assert message.startswith("Invalid JSON body"), r.text

    run()
    finish(api, report, "nesting 1..30000 levels: <=100 stored, deeper 400")


def test_body_size_edges(api: Api, report: Report) -> None:
    """64 KiB exactly is accepted (and stored whole, multi-byte characters included); one byte more is a 413."""
    for filler in ("a", "é", "😀"):
        template = '{"mood_today":"ok","confidence_today":5,"date_submitted":"%s","x_big":"%s"}'
        date = api.next_day()
        room = MAX_BODY - len((template % (date, "")).encode())
        big = filler * (room // len(filler.encode()))
        big += "a" * (room - len(big.encode()))  # pad to exactly 64 KiB in bytes
        raw = (template % (date, big)).encode()
        assert len(raw) == MAX_BODY
        r = api.send("POST", "/api/checkins", raw)
        assert r.status_code == 201, r.text[:300]
        got = api.send("GET", f"/api/checkins/{r.json()['checkin']['id']}").json()["checkin"]["x_big"]
        assert got == big
        over = (template % (api.next_day(), big + "a")).encode()
        assert len(over) == MAX_BODY + 1
        r = api.send("POST", "/api/checkins", over)
        assert r.status_code == 413, r.text[:300]
        assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
        # a lying Content-Length does not get a big body through either
        r = api.send("POST", "/api/checkins", over * 4, headers={"Content-Length": "10"})
        assert r.status_code in (400, 413), r.text[:300]
    # a 64 KiB string in a field with a rule is the function's 400, not a crash
    r = api.post_json("/api/checkins", {"mood_today": "m" * 60_000, "confidence_today": 5})
    assert r.status_code == 400 and "mood_today" in r.json()["error"], r.text[:300]
    finish(api, report, "64 KiB accepted whole, 64 KiB + 1 byte 413")


def test_duplicate_keys_last_wins(api: Api, report: Report) -> None:
    date = api.next_day()
    raw = (
        '{"mood_today":"first","mood_today":"second","confidence_today":"x","confidence_today":5,'
        f'"date_submitted":"2000-01-01","date_submitted":"{date}","x_k":1,"x_k":{{"a":1,"a":2}}}}'
    ).encode()
    r = api.send("POST", "/api/checkins", raw)
    assert r.status_code == 201, r.text
    got = api.send("GET", f"/api/checkins/{r.json()['checkin']['id']}").json()["checkin"]
    assert (got["mood_today"], got["confidence_today"], got["date_submitted"], got["x_k"]) == (
        "second",
        5,
        date,
        {"a": 2},
    )
    finish(api, report, "duplicate keys: last wins")


def test_not_an_object(api: Api, report: Report) -> None:
    """Any JSON text that is not an object, and any non-JSON, is a 400 (415 for another content type)."""
    for raw in [
        b"[]",
        b"null",
        b"1",
        b'"x"',
        b"true",
        b"{",
        b"{}}",
        b'{"a":1,}',
        b"\xef\xbb\xbf{}",
        b"\x00",
        b"{'a':1}",
    ]:
        r = api.send("POST", "/api/checkins", raw)
        assert r.status_code == 400, (raw, r.text)
    r = api.send(
        "POST", "/api/checkins", b"mood_today=ok", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415, r.text
    finish(api, report, "non-objects and non-JSON: 400/415")
