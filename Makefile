# Foresight — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Services used by the test suite (override on the command line or in the environment).
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/foresight
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: demo test test-fast bench install install-dev lock lint messages clean

# Installs come from the lock files, every package pinned and hashed (pip --require-hashes), so a
# fresh machine gets exactly what CI tested. requirements*.txt are the ones people edit; `make lock`
# compiles them into requirements*.lock (settings in pyproject.toml's [tool.pip-tools]).
PIP_INSTALL := $(BIN)/python -m pip install --quiet --require-hashes
CHECK_LOCK := $(PYTHON) scripts/check_lock.py

$(VENV)/.pip: requirements-pip.txt requirements-pip.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(CHECK_LOCK) requirements-pip.txt requirements-pip.lock
	$(PIP_INSTALL) -r requirements-pip.lock
	touch $@

$(VENV)/.installed: requirements.txt requirements.lock $(VENV)/.pip
	$(CHECK_LOCK) requirements.txt requirements.lock
	$(PIP_INSTALL) -r requirements.lock
	$(BIN)/python -m pip check
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements.lock requirements-dev.txt requirements-dev.lock $(VENV)/.pip
	$(CHECK_LOCK) requirements.txt requirements.lock requirements-dev.txt requirements-dev.lock
	$(PIP_INSTALL) -r requirements-dev.lock
	$(BIN)/python -m pip check
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Recompile the lock files after editing requirements*.txt. Pins already in a lock are kept unless
## the requirements file asks otherwise; to move one: make lock LOCK_ARGS="--upgrade-package NAME"
## (all of them: LOCK_ARGS=--upgrade). Needs the package index.
PIP_TOOLS := pip-tools==7.7.0
LOCK_VENV := $(VENV)/pip-tools
LOCK_ARGS ?=
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet $(LOCK_ARGS)

$(LOCK_VENV)/bin/pip-compile: requirements-pip.lock
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(LOCK_VENV)/bin/python -m pip install --quiet $(PIP_TOOLS)
	touch $@

lock: $(LOCK_VENV)/bin/pip-compile
	$(PIP_COMPILE) -o requirements-pip.lock requirements-pip.txt
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

## Run the product on its embedded default (SQLite, eager Celery) on http://127.0.0.1:8000
demo: $(VENV)/.installed
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py load_catalog
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py demo_data
	@echo "Foresight is running on http://127.0.0.1:8000 (admin: http://127.0.0.1:8000/admin/)"
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the whole test suite against PostgreSQL, Redis, a real Celery worker and Chromium
test: $(VENV)/.installed-dev
	scripts/ensure-chromium
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) scripts/ensure-services
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

## The inner loop, in two processes: every test but the browser, worker, fault and sweep suites (PostgreSQL
## and Redis; no Chromium, no Celery worker process)
test-fast: $(VENV)/.installed-dev
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) scripts/ensure-services
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python -m pytest -n 2 -m "not browser and not worker and not faults and not sweep" $(PYTEST_ARGS)

## Benchmark against baselines on PostgreSQL at national scale, writing BENCHMARKS.md (about 15 minutes);
## a quicker run: make bench BENCH_ARGS="--scale 0.1 --repeat 2"
BENCH_ARGS ?=
bench: $(VENV)/.installed
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/5 scripts/ensure-services
	$(BIN)/python -m bench.run --scale 1 --repeat 3 $(BENCH_ARGS)

## Lint and type-check: ruff, then mypy with the Django and DRF stubs (settings in pyproject.toml)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u DATABASE_URL -u REDIS_URL $(BIN)/mypy

## Recompile the Chinese UI translation (needs GNU gettext; the compiled file is committed)
messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --no-obsolete
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
