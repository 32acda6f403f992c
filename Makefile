# `make run` and `make test` work on a bare machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test fuzz lint install migrate demo schema schema-check bench profile bench-checkout bench-shapes loadtest clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# Loads demo data only into an empty catalog.
demo: migrate
	$(PY) manage.py seed_demo --if-empty

run: demo
	DEBUG=$${DEBUG:-1} $(VENV)/bin/uvicorn commerce.asgi:application --host 127.0.0.1 --port 8000 --reload

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The fuzz test's long profile: about 11,000 requests in two minutes
# on SQLite. FUZZ_EXAMPLES=N sets the examples per field (40 by default).
fuzz: install
	FUZZ_PROFILE=long $(PY) -m pytest tests/test_fuzz.py $(PYTEST_ARGS)

# Ruff (pyflakes, syntax, upgrades), mypy on apps/ and schema/ (mypy.ini), then
# the layering contracts (.importlinter).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

schema: install
	$(PY) manage.py export_schema schema.schema:schema --path graphql_schema.graphql

schema-check: install
	$(PY) manage.py export_schema schema.schema:schema --path /tmp/graphql_schema.check.graphql >/dev/null
	diff -q graphql_schema.graphql /tmp/graphql_schema.check.graphql

bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

# ProductList(first: 100) in-process against the bench database: timings and
# cProfile's top entries, or instructions per request under callgrind
# (PROFILE_ARGS="--mode callgrind").
profile: install
	$(PY) bench/profile.py $(PROFILE_ARGS)

# Completed checkouts per second with 1, 4 and 16 buyers on PostgreSQL, with
# the oversold units and deadlocks (both must be 0).
bench-checkout: install
	$(PY) bench/checkout.py $(BENCH_ARGS)

# Parse and validation time of the costliest document of each shape.
bench-shapes: install
	$(PY) bench/shapes.py

# Locust in a virtualenv of its own (gevent stays out of the server's .venv),
# made once like the install stamp.
LOAD_VENV := .venv-load
LOAD_STAMP := $(LOAD_VENV)/.installed

$(LOAD_STAMP): requirements-loadtest.txt
	test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOAD_VENV)/bin/python -m pip install --quiet -r requirements-loadtest.txt
	touch $(LOAD_STAMP)

# A shop's mix (browse and search 80 %, cart 15 %, checkout 5 %) from Locust
# against gunicorn, PostgreSQL, Redis and a Celery worker, 60 s by default;
# LOADTEST_ARGS="--users 50 --duration 120" changes it. Not part of CI.
loadtest: install $(LOAD_STAMP)
	$(PY) bench/loadtest.py $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache
