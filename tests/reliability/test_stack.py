"""The fault-test stack itself: kill -9 and restart both processes; data written before survives."""

from __future__ import annotations

import httpx

from ._stack import Stack


def test_kill_and_restart_both() -> None:
    with Stack() as s:
        r = httpx.post(f"{s.base_url}/api/auth/signup", json={"email": "stack@example.com"}, timeout=10)
        assert r.status_code == 201, r.text
        s.kill_db()
        assert httpx.get(f"{s.base_url}/api/health", timeout=10).status_code == 503
        s.start_db()
        s.kill_gateway()
        s.start_gateway()
        with s.connect() as conn:
            row = conn.execute("SELECT count(*) FROM public.users WHERE email = 'stack@example.com'").fetchone()
        assert row == (1,)
