# Novara Schema V2 — the two commands: `make run` and `make test`.
# Only python3 (>= 3.11) and make are needed: the targets create .venv themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
BENCH_STAMP   := $(VENV)/.installed-bench
BACKUP_STAMP  := $(VENV)/.installed-backup

.DEFAULT_GOAL := help
.PHONY: help run test lint format test-sql test-py migrate migrate-status psql db-url db-stop token clean venv \
        check-metrics refresh-metrics monitor selftest smoke test-reliability api-docs backup-tools test-recovery \
        ha-tools test-ha cluster-up cluster-status cluster-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# A venv is stale when it is missing, broken (its python no longer runs, e.g. after a move) or older
# than pyproject.toml: a broken one is removed here, and the stamps below rebuild the rest.
ifneq ($(shell $(BIN)/python -c 'print(1)' 2>/dev/null),1)
$(shell rm -rf $(VENV))
endif

$(RUNTIME_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	@touch $@

# The tests draw the benchmark's charts too (bench/tests), so the dev venv has the bench extra.
$(DEV_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

$(BENCH_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[bench]'
	@touch $@

# Debian's package $(1) when its command $(2) is missing (as root), saying so; then with fresh package lists.
define apt_install
command -v $(2) >/dev/null || { \
  echo "make: $(2) is missing: installing $(1) with apt-get (as root)"; \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null 2>&1 || { \
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); }; }
endef

# Barman (the `backup` extra): its psycopg2 builds against libpq (pg_config), and it restores with rsync.
$(BACKUP_STAMP): pyproject.toml $(RUNTIME_STAMP)
	@$(call apt_install,libpq-dev,pg_config)
	@$(call apt_install,rsync,rsync)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[backup]'
	@touch $@

venv: $(DEV_STAMP) ## create or refresh .venv with every dependency

run: $(RUNTIME_STAMP) ## serve the API (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/novara serve

lint: $(DEV_STAMP) ## ruff, sqlfluff, db/'s install order and names (.ci/db_layout.py), squawk on new migrations
	$(BIN)/ruff check gateway novara tests bench conftest.py .ci/squawk.py .ci/db_layout.py
	$(BIN)/ruff format --check gateway novara tests bench conftest.py .ci/squawk.py .ci/db_layout.py
	$(BIN)/sqlfluff lint db --processes 2
	$(BIN)/python .ci/db_layout.py
	$(BIN)/python .ci/squawk.py

format: $(DEV_STAMP) ## apply ruff format and sqlfluff fix
	$(BIN)/ruff format gateway novara tests bench conftest.py .ci/squawk.py .ci/db_layout.py
	$(BIN)/sqlfluff fix db --processes 2

test: lint ## lint, then the whole suite (SQL + Python) on a throwaway server
	$(BIN)/pytest

test-reliability: $(DEV_STAMP) ## the reliability suite at full size (faults, load, hostile input, isolation), with its summary
	NOVARA_RELIABILITY=full $(BIN)/pytest tests/reliability tests/isolation

backup-tools: $(BACKUP_STAMP) ## install Barman (pip extra `backup`) and rsync, for `novara backup` and `novara restore`

test-recovery: $(DEV_STAMP) $(BACKUP_STAMP) ## the recovery drill: writes over HTTP, operator mistakes, restore to just before them, checks
	$(BIN)/pytest -m recovery tests/recovery

# Replication (novara/cluster.py): etcd is Debian's etcd-server; Patroni (PyPI) gets a virtualenv of its own on the
# system's Python, which the server's system user can run (ours may live in the private root home).
ha-tools: $(RUNTIME_STAMP) ## install etcd (apt) and Patroni (its own venv), for `novara cluster` and make test-ha
	@$(call apt_install,etcd-server,etcd)
	@/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || { \
	  echo "make: python3-venv is missing: installing it with apt-get (as root)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(BIN)/python -c 'from novara.cluster import ensure_patroni; ensure_patroni()'

test-ha: $(DEV_STAMP) ha-tools ## replication: failover under load, a lagging standby, switchover, pg_rewind (Patroni, etcd)
	$(BIN)/pytest -m ha tests/ha

cluster-up: ha-tools ## start a replicated cluster (Patroni, etcd, a primary and two standbys) and print its URLs
	$(BIN)/novara cluster up

cluster-status: $(RUNTIME_STAMP) ## each node's role, state and lag; the URLs
	$(BIN)/novara cluster status

cluster-down: $(RUNTIME_STAMP) ## stop the replicated cluster (its data stays; novara cluster down --purge removes it)
	$(BIN)/novara cluster down

test-sql: $(DEV_STAMP) ## only the SQL tests in db/tests (TEST_DATABASE_URL selects a server)
	$(BIN)/pytest db/tests

test-py: $(DEV_STAMP) ## only the Python tests in tests/
	$(BIN)/pytest tests bench/tests

migrate: $(RUNTIME_STAMP) ## apply pending migrations
	$(BIN)/novara migrate

migrate-status: $(RUNTIME_STAMP) ## list applied and pending migrations
	$(BIN)/novara migrate --status

psql: $(RUNTIME_STAMP) ## psql on the database
	$(BIN)/novara psql

db-url: $(RUNTIME_STAMP) ## print the database URL (starts the embedded server)
	@$(BIN)/novara db-url

db-stop: $(RUNTIME_STAMP) ## stop the embedded server
	$(BIN)/novara db-stop

token: $(RUNTIME_STAMP) ## print a JWT: make token EMAIL=you@example.com
	@$(BIN)/novara token --email "$(EMAIL)"

check-metrics: $(RUNTIME_STAMP) ## report the metrics views (exit 1: a view is missing or has no unique index)
	@$(BIN)/novara check-metrics

refresh-metrics: $(RUNTIME_STAMP) ## refresh the metrics views, print each one's duration
	@$(BIN)/novara refresh-metrics

monitor: $(RUNTIME_STAMP) ## the guide's monitoring in one place: events/min, metrics freshness, top api functions
	@$(BIN)/novara monitor

selftest: $(RUNTIME_STAMP) ## exercise every api function as a throwaway user, rolled back (exit 1: a step failed)
	@$(BIN)/novara selftest

api-docs: $(RUNTIME_STAMP) ## regenerate docs/api.md (the HTTP API reference) from the code and the database
	@$(BIN)/novara api-docs

smoke: $(RUNTIME_STAMP) ## check a running gateway over HTTP: make smoke URL=https://host (default: a local make run)
	@$(BIN)/novara smoke $(if $(URL),--url "$(URL)")

.PHONY: bench bench-large bench-ha
bench: $(BENCH_STAMP) ## benchmark every route, direct (pgbench) vs gateway (wrk), small data set (~3 min; SIZE=medium)
	$(BIN)/python -m bench --size $(or $(SIZE),small)

bench-large: $(BENCH_STAMP) ## the benchmark on the large data set (>= 10 million events; long, opt-in)
	$(BIN)/python -m bench --size large

bench-ha: $(BENCH_STAMP) ha-tools ## replication: reads primary vs standby vs both, writes quorum-sync vs async (~2 min)
	$(BIN)/python -m bench.ha

clean: ## remove .venv (the data in .data/ is kept)
	rm -rf $(VENV) *.egg-info
