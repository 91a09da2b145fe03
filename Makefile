# Foresight — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Services used by the test suite (override on the command line or in the environment).
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/foresight
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: demo test bench install install-dev lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

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

## Benchmark against baselines on PostgreSQL at national scale, writing BENCHMARKS.md (about 15 minutes);
## a quicker run: make bench BENCH_ARGS="--scale 0.1 --repeat 2"
BENCH_ARGS ?=
bench: $(VENV)/.installed
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/5 scripts/ensure-services
	$(BIN)/python -m bench.run --scale 1 --repeat 3 $(BENCH_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Recompile the Chinese UI translation (needs GNU gettext; the compiled file is committed)
messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --no-obsolete
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
