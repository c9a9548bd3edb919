#!/usr/bin/env bash
# Run db/tests against Debian's PostgreSQL 15, installed with apt if absent, server run as `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PGBIN/postgres" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "installing postgresql-15 with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql-15 postgresql-contrib >/dev/null
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres

work=$(mktemp -d /tmp/novara-pg15.XXXXXX)
chmod 755 "$work"
chown postgres "$work"
stop() {
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap stop EXIT

runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/log" -w start -o \
    "-c listen_addresses='' -k $work -c shared_preload_libraries=pg_stat_statements -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null

export TEST_DATABASE_URL="postgresql://postgres@/postgres?host=$work"
rc=0
make test-sql || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "CI: no SQL tests collected on PostgreSQL 15 — that is a failure" >&2
    exit 1
fi
exit "$rc"
