# Novara Schema V2 — the two commands: `make run` and `make test`.
# Only python3 (>= 3.11) and make are needed: the targets create .venv themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
BENCH_STAMP   := $(VENV)/.installed-bench

.DEFAULT_GOAL := help
.PHONY: help run test lint format test-sql test-py migrate migrate-status psql db-url db-stop token clean venv \
        check-metrics refresh-metrics monitor selftest smoke test-reliability api-docs

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

venv: $(DEV_STAMP) ## create or refresh .venv with every dependency

run: $(RUNTIME_STAMP) ## serve the API (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/novara serve

lint: $(DEV_STAMP) ## ruff, sqlfluff, and squawk on new migrations (db/schema >= 0013)
	$(BIN)/ruff check gateway novara tests bench conftest.py .ci/squawk.py
	$(BIN)/ruff format --check gateway novara tests bench conftest.py .ci/squawk.py
	$(BIN)/sqlfluff lint db --processes 2
	$(BIN)/python .ci/squawk.py

format: $(DEV_STAMP) ## apply ruff format and sqlfluff fix
	$(BIN)/ruff format gateway novara tests bench conftest.py
	$(BIN)/sqlfluff fix db --processes 2

test: lint ## lint, then the whole suite (SQL + Python) on a throwaway server
	$(BIN)/pytest

test-reliability: $(DEV_STAMP) ## the reliability suite at full size (faults, load, hostile input, isolation), with its summary
	NOVARA_RELIABILITY=full $(BIN)/pytest tests/reliability tests/isolation

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

.PHONY: bench bench-large
bench: $(BENCH_STAMP) ## benchmark every route, direct (pgbench) vs gateway (wrk), small data set (~3 min; SIZE=medium)
	$(BIN)/python -m bench --size $(or $(SIZE),small)

bench-large: $(BENCH_STAMP) ## the benchmark on the large data set (>= 10 million events; long, opt-in)
	$(BIN)/python -m bench --size large

clean: ## remove .venv (the data in .data/ is kept)
	rm -rf $(VENV) *.egg-info
