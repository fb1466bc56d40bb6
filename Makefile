# Speakout's two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make bench` serves from an install like production's: the test tools in .venv would add
# their modules to every web process's memory (issue 7's memory target).
BENCH_VENV := .venv-bench
PYTEST_ARGS ?=
# The PostgreSQL server the second test run uses; pytest-django creates and drops its own
# test database on it (test_<name>), so the database named here is never touched.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test test-fast test-sqlite test-postgres typecheck bench lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# With the PostgreSQL and Redis clients, so DATABASE_URL and REDIS_URL work with `make run` too.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[postgres,redis]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/speakout run

# The browser journeys and the mail server tests (Dovecot, `speakout bounces`) do not depend on
# the database: `make test` runs them once, in the PostgreSQL half (`make test-sqlite` alone still
# runs them, for a machine without PostgreSQL).
test: typecheck
	$(MAKE) test-sqlite PYTEST_ARGS="--ignore=tests/browser --ignore=tests/mailserver $(PYTEST_ARGS)"
	$(MAKE) test-postgres

# A quick loop: everything but the browser journeys and the tests that start a real server.
test-fast: $(VENV)/.installed-dev
	env -u DATABASE_URL $(BIN)/pytest -n 2 --dist loadgroup -m "not browser and not server" --ignore=tests/mailserver --ignore=tests/postgres $(PYTEST_ARGS)

# mypy with django-stubs on the modules pyproject.toml's [tool.mypy] names, strictly.
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# tests/postgres/ holds what only PostgreSQL can run (SQL written for it).
test-sqlite: $(VENV)/.installed-dev
	env -u DATABASE_URL $(BIN)/pytest -n 2 --dist loadgroup --ignore=tests/postgres $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the translation catalogs after changing user-facing strings (needs gettext).
# Every catalog under speakout/locale (one folder a language) must stay complete:
# tests/theme/test_i18n.py checks them all.
LOCALES := $(notdir $(wildcard speakout/locale/*))
messages: $(VENV)/.installed-dev
	cd speakout && ../$(BIN)/python ../manage.py makemessages $(addprefix -l ,$(LOCALES)) --no-obsolete
	cd speakout && ../$(BIN)/python ../manage.py compilemessages

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(ISSO_VENV) .pytest_cache test-artifacts

$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e ".[postgres,redis]"
	touch $@

# Isso, which the reply posts are measured against, from an install of its own.
ISSO_VENV := .venv-isso
$(ISSO_VENV)/.installed:
	$(PYTHON) -m venv $(ISSO_VENV)
	$(ISSO_VENV)/bin/pip install --quiet "isso==0.14.*" gunicorn
	touch $@

bench: $(VENV)/.installed-dev $(BENCH_VENV)/.installed $(ISSO_VENV)/.installed
	SPEAKOUT_BENCH_PYTHON=$(BENCH_VENV)/bin/python SPEAKOUT_BENCH_ISSO_PYTHON=$(ISSO_VENV)/bin/python bash bench/run.sh
