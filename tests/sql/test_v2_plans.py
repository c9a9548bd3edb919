"""Query plans of the V2 read functions, seen through auto_explain (nested statements included).

The timeline must walk `health_events_user_occurred`; the daily summary must reach `health_events` only through
per-user indexes (no sequential scan of the whole log); analytics must not read the log at all, only the user's
rollups through their primary key. The data is big enough (many users) that a sequential scan would be a real
choice for the planner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import psycopg
import pytest

USERS = 200
EVENTS_PER_USER = 60
HEAVY_USER_EVENTS = 1500  # user7: a long history, where the ordered index walk pays off


@pytest.fixture
def explained(postgresql: psycopg.Connection) -> Iterator[tuple[psycopg.Connection, list[str]]]:
    conn = postgresql
    conn.autocommit = True
    seed = """
        INSERT INTO public.users (email)
        SELECT 'user' || g || '@example.com' FROM generate_series(1, __USERS__) AS g;
        INSERT INTO public.user_profiles (user_id) SELECT id FROM public.users;
        INSERT INTO public.health_events (user_id, event_type, event_subtype, event_data, occurred_at, local_date)
        SELECT u.id,
               (ARRAY['mood', 'medication', 'symptom', 'note'])[1 + g % 4],
               CASE WHEN g % 4 = 0 THEN 'daily_checkin' END,
               CASE g % 4
                   WHEN 0 THEN '{"mood": "hopeful", "confidence": 7}'::jsonb
                   WHEN 1 THEN '{"status": "taken"}'::jsonb
                   WHEN 2 THEN '{"symptoms": ["a"]}'::jsonb
                   ELSE '{"text": "t"}'::jsonb
               END,
               now() - g * u.step,
               core.local_date(u.id, now() - g * u.step)
        FROM (
            SELECT id, CASE WHEN email = 'user7@example.com' THEN interval '25 minutes' ELSE interval '7 hours' END,
                   CASE WHEN email = 'user7@example.com' THEN __HEAVY__ ELSE __EVENTS__ END
            FROM public.users
        ) AS u (id, step, n)
        CROSS JOIN LATERAL generate_series(1, u.n) AS g;
        -- one event in ten corrected, one in fifty retracted
        INSERT INTO public.health_events (user_id, event_type, event_subtype, event_data, occurred_at, local_date,
                                          action, related_event_id)
        SELECT user_id, event_type, event_subtype, event_data, occurred_at, local_date,
               CASE WHEN position % 50 = 0 THEN 'retract' ELSE 'correct' END,
               id
        FROM public.health_events WHERE position % 10 = 0;
        ANALYZE public.users, public.user_profiles, public.health_events;
        """
    seed = seed.replace("__USERS__", str(USERS)).replace("__EVENTS__", str(EVENTS_PER_USER))
    conn.execute(seed.replace("__HEAVY__", str(HEAVY_USER_EVENTS)))  # type: ignore[arg-type]
    plans: list[str] = []
    conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    for setting, value in {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_level": "notice",
        "auto_explain.log_format": "json",
    }.items():
        conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
    conn.execute("SET ROLE novara_api")
    conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (json.dumps({"email": "user7@example.com"}),))
    yield conn, plans
    conn.execute("RESET ROLE")


Scan = tuple[str, str | None, str | None, str]  # node type, relation, index, condition


def _scans(doc: dict) -> list[Scan]:
    """Every scan node of one auto_explain JSON plan (a Bitmap Index Scan is attributed to its heap relation)."""
    out: list[Scan] = []

    def walk(node: dict, heap: str | None = None) -> None:
        kind = node["Node Type"]
        rel = node.get("Relation Name", heap if kind == "Bitmap Index Scan" else None)
        if kind.endswith("Scan"):
            cond = node.get("Index Cond") or node.get("Recheck Cond") or ""
            out.append((kind, rel, node.get("Index Name"), cond))
        for child in node.get("Plans", []):
            walk(
                child,
                node.get("Relation Name", heap) if kind in {"Bitmap Heap Scan", "BitmapAnd", "BitmapOr"} else None,
            )

    walk(doc["Plan"])
    return out


def _plans_touching_events(plans: list[str], relation: str = "health_events") -> list[tuple[str, list[Scan]]]:
    """(query text, scans) of every explained statement that reads `relation`."""
    result = []
    for text in plans:
        if "{" not in text:
            continue
        doc = json.loads(text[text.index("{") :])
        scans = _scans(doc)
        if any(rel == relation for _, rel, _, _ in scans):
            result.append((doc.get("Query Text", ""), scans))
    return result


def _assert_per_user_only(found: list[tuple[str, list[Scan]]]) -> None:
    """Every heap access to health_events is bounded by the user, or is a lookup by a row's id."""
    assert found, "no statement on health_events was explained"
    for query, scans in found:
        for node, rel, index, cond in scans:
            if rel != "health_events" or node == "Bitmap Index Scan":
                continue
            where = f"{node} {index} [{cond}] in: {query}"
            assert node in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, where
            per_user = "user_id = " in cond
            by_row = re.search(r"\((related_event_id|id) = \w+\.id\)", cond) is not None
            assert per_user or by_row, where


def test_timeline_walks_the_user_occurred_index(explained: tuple[psycopg.Connection, list[str]]) -> None:
    conn, plans = explained
    # several calls: PL/pgSQL switches from custom to generic plans after five executions
    for args in [{}, {"limit": "5"}, {"include_history": "true"}, {"event_types": "mood"}] * 2:
        body = conn.execute("SELECT api.timeline(%s::jsonb)", (json.dumps(args),)).fetchone()[0]
        assert body["success"] is True
        assert body["count"] > 0
    page = [q for q, scans in _plans_touching_events(plans) if "candidates" in q]
    assert len(page) == 8, plans
    for query, scans in _plans_touching_events(plans):
        if "candidates" not in query:
            continue
        indexes = {index for _, rel, index, _ in scans if rel == "health_events"}
        assert "health_events_user_occurred" in indexes, scans
    _assert_per_user_only(_plans_touching_events(plans))


def test_cursor_page_uses_the_index_too(explained: tuple[psycopg.Connection, list[str]]) -> None:
    conn, plans = explained
    first = conn.execute("SELECT api.timeline('{\"limit\": 3}')").fetchone()[0]
    plans.clear()
    second = conn.execute(
        "SELECT api.timeline(%s::jsonb)", (json.dumps({"limit": 3, "before": first["next_before"]}),)
    ).fetchone()[0]
    assert {e["id"] for e in first["timeline"]}.isdisjoint({e["id"] for e in second["timeline"]})
    found = [(q, s) for q, s in _plans_touching_events(plans) if "candidates" in q]
    assert found
    for _, scans in found:
        assert any(s[:3] == ("Index Scan", "health_events", "health_events_user_occurred") for s in scans), scans


def test_daily_summary_uses_per_user_indexes(explained: tuple[psycopg.Connection, list[str]]) -> None:
    conn, plans = explained
    for _ in range(7):
        body = conn.execute("SELECT api.daily_summary('{}')").fetchone()[0]
        assert body["success"] is True
    _assert_per_user_only(_plans_touching_events(plans))


@pytest.mark.parametrize("timeframe", ["week", "quarter"])
def test_analytics_reads_the_rollups_not_the_log(
    explained: tuple[psycopg.Connection, list[str]], timeframe: str
) -> None:
    conn, plans = explained
    for _ in range(7):
        body = conn.execute("SELECT api.analytics(%s::jsonb)", (json.dumps({"timeframe": timeframe}),)).fetchone()[0]
        assert body["success"] is True
        assert body["analytics"]["total_events"] > 0
    assert _plans_touching_events(plans) == [], "analytics read the event log"
    found = _plans_touching_events(plans, "user_day_rollups")
    assert found, "no statement on user_day_rollups was explained"
    for query, scans in found:
        for node, rel, index, cond in scans:
            if rel != "user_day_rollups" or node == "Bitmap Index Scan":
                continue
            where = f"{node} {index} [{cond}] in: {query}"
            assert node in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, where
            assert "user_id = " in cond, where
