"""The audit of reads outside the person's own requests (docs/audit.md), over real connections: an analyst's login
reading per-user rows leaves a record naming the login, the user and the table; the person's own HTTP requests
leave none; the analyst can neither read nor change the record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from novara import embedded
from tests._http import bearer, signup

ANALYST = "novara_test_analyst"  # a login, as docs/roles.md tells operators to create one per analyst


@pytest.fixture
def analyst_url(db_url: str) -> str:
    with psycopg.connect(db_url, autocommit=True) as conn:  # roles are cluster-wide: created once per server
        conn.execute(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ANALYST}') THEN
                    CREATE ROLE {ANALYST} LOGIN IN ROLE novara_analyst;
                END IF;
            END $$"""
        )
    return embedded.with_login(db_url, ANALYST)


@pytest.fixture
def owner(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def records(owner: psycopg.Connection[Any]) -> set[tuple[str, str, str, str]]:
    rows = owner.execute("SELECT reader, subject_id::text, relation, via FROM public.data_access_log").fetchall()
    return {tuple(r) for r in rows}  # type: ignore[misc]


def test_analyst_reads_are_recorded_and_own_requests_are_not(
    client: TestClient, owner: psycopg.Connection[Any], analyst_url: str
) -> None:
    ann_token, ann = signup(client)
    bob_token, bob = signup(client)
    for token in (ann_token, bob_token):
        r = client.post("/api/checkins", json={"mood_today": "hopeful", "confidence_today": 7}, headers=bearer(token))
        assert r.status_code == 201, r.text
    r = client.post(
        "/api/v2/health/events", json={"event_type": "sleep", "event_data": {"hours": 7}}, headers=bearer(ann_token)
    )
    assert r.status_code == 201, r.text
    # The people's own requests: not recorded row by row.
    for token in (ann_token, bob_token):
        for path in ("/api/checkins", "/api/users/me/export", "/api/v2/health/timeline", "/api/users/metrics"):
            assert client.get(path, headers=bearer(token)).status_code == 200
    assert records(owner) == set()
    # The owner (here the superuser) reads without a record: it could remove the log as well (docs/audit.md).
    owner.execute("SELECT count(*) FROM public.health_events")
    owner.execute("SELECT public.refresh_user_metrics(false)")
    assert records(owner) == set()

    with psycopg.connect(analyst_url, autocommit=True) as ana:
        # One person's rows: that person, that table, once however many rows.
        n = ana.execute("SELECT count(*) FROM public.health_events WHERE user_id = %s", [ann["id"]]).fetchone()
        assert n and n[0] > 1
        assert records(owner) == {(ANALYST, ann["id"], "public.health_events", "row-level security")}
        # A view reads its tables under their policies: every user whose rows it passed is recorded.
        ana.execute("SELECT count(*) FROM public.daily_checkins_legacy")
        assert (ANALYST, bob["id"], "public.health_events", "row-level security") in records(owner)
        # The check-ins' read model, like every per-user table.
        ana.execute("SELECT count(*) FROM public.daily_checkins")
        # The metrics snapshots, through the recording view.
        got = ana.execute("SELECT user_id::text FROM public.analyst_daily_metrics WHERE user_id = %s", [bob["id"]])
        assert got.fetchall() == [(bob["id"],)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ana.execute("SELECT count(*) FROM public.user_daily_metrics")
    found = records(owner)
    for person in (ann, bob):
        assert (ANALYST, person["id"], "public.daily_checkins", "row-level security") in found
    assert (ANALYST, bob["id"], "public.user_daily_metrics", "row-level security") in found
    assert (ANALYST, ann["id"], "public.user_daily_metrics", "row-level security") not in found


def test_the_analyst_cannot_read_change_or_forge_the_record(
    client: TestClient, owner: psycopg.Connection[Any], analyst_url: str
) -> None:
    _token, ann = signup(client)
    with psycopg.connect(analyst_url, autocommit=True) as ana:
        ana.execute("SELECT id, status FROM public.users WHERE id = %s", [ann["id"]])
        for statement in (
            "SELECT * FROM public.data_access_log",
            "DELETE FROM public.data_access_log",
            "UPDATE public.data_access_log SET reader = 'someone else'",
            "TRUNCATE public.data_access_log",
            "INSERT INTO public.data_access_log (reader, reader_role, subject_id, relation, via) "
            "VALUES ('x', 'x', gen_random_uuid(), 'x', 'x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                ana.execute(statement)  # type: ignore[arg-type]
        # Calling the recorder by hand records the caller, nobody else.
        ana.execute("SELECT core.note_access('public.insights', %s)", [ann["id"]])
    assert {(r[0], r[2]) for r in records(owner)} == {(ANALYST, "public.users"), (ANALYST, "public.insights")}


def test_a_rolled_back_read_still_reaches_the_server_log(
    client: TestClient, owner: psycopg.Connection[Any], analyst_url: str
) -> None:
    _token, ann = signup(client)
    notices: list[str] = []
    with psycopg.connect(analyst_url) as ana:
        ana.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        ana.execute("SET client_min_messages = log")  # the reader sees the LOG line the server log gets
        ana.execute("SELECT count(*) FROM public.user_profiles WHERE user_id = %s", [ann["id"]])
        ana.rollback()
    # The table row went with the transaction (docs/audit.md says so); the server log line did not.
    assert records(owner) == set()
    assert notices == [f"novara audit: {ANALYST} (role none) read public.user_profiles of user {ann['id']}"]
