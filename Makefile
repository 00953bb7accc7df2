# The two commands of a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test lint migrate seed worker clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml tally/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ./tally -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml tally/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ./tally -e '.[test]'
	touch $(VENV)/.installed $@

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## Serve the demo on http://$(HOST) (SQLite, tasks run in-process unless CELERY_BROKER_URL is set).
run: seed
	$(BIN)/python manage.py runserver $(HOST)

## Run the whole suite (SQLite by default; PostgreSQL when DATABASE_URL is set).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## Benchmarks at 10,000, 100,000 and 1,000,000 votes, each figure beside its baseline (about 20 minutes).
## Needs PostgreSQL on 127.0.0.1:5432 as CI starts it; BENCH_ARGS="--quick" for 10,000 and 100,000 only.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## A Celery worker, for when CELERY_BROKER_URL points at Redis.
worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) var
