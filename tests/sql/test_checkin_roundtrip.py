"""Property: any valid V1 check-in posted with api.create_checkin reads back identical with api.get_checkin.

Every submitted key comes back with the same value and the same JSON type ("every one is
stored and read back exactly"), both flat and under "fields". The one exception is the PHQ-4 rule: when
all four items are answered, phq4_score / phq4_anxiety / phq4_depression are derived from them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from psycopg.types.json import Jsonb

from tests._checkins import checkins, expected_phq4
from tests._http import same


def call(conn: psycopg.Connection, email: str, function: str, args: dict[str, Any]) -> dict[str, Any]:
    """One api.* call the way the gateway makes it: a transaction, claims, role novara_api."""
    with conn.transaction():
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [json.dumps({"email": email})])
        conn.execute("SET LOCAL ROLE novara_api")
        row = conn.execute(f"SELECT api.{function}(%s)", [Jsonb(args)]).fetchone()
    assert row is not None
    return row[0]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=checkins())
def test_checkin_round_trip(postgresql: psycopg.Connection, body: dict[str, Any]) -> None:
    conn = postgresql
    conn.autocommit = True
    email = f"prop-{uuid.uuid4().hex}@example.com"  # a fresh user per example
    conn.execute("INSERT INTO public.users (email) VALUES (%s)", [email])

    created = call(conn, email, "create_checkin", body)
    assert created["success"] is True
    got = call(conn, email, "get_checkin", {"id": created["checkin"]["id"]})["checkin"]
    assert same(got, created["checkin"]), "read back differs from the create response"

    derived = expected_phq4(body)
    expected = dict(body)
    if derived:
        expected.update(derived)
    for key, value in expected.items():
        assert key in got["fields"], key
        assert same(got["fields"][key], value), (key, value, got["fields"][key])
        if key != "fields":
            assert same(got[key], value), (key, value, got[key])
    if "date_submitted" not in body:
        today = conn.execute("SELECT core.local_date(u.id)::text FROM public.users AS u WHERE u.email = %s", [email])
        assert got["date_submitted"] == today.fetchone()[0]  # type: ignore[index]
    if "medication_taken" not in body:
        assert got["medication_taken"] == "not tracked"
    # nothing beyond the row's own keys appears
    assert set(got["fields"]) - set(expected) <= {
        "id",
        "user_id",
        "date_submitted",
        "created_at",
        "updated_at",
        "checkin_type",
        "medication_taken",
    }
    assert got["checkin_type"] == "standard"
