# The two commands of a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test test-fast test-oldest lint migrate seed worker clean bench messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml tally/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ./tally -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml tally/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ./tally -e '.[test]'
	touch $(VENV)/.installed $@

## The interface's translations, compiled from locale/<lang>/LC_MESSAGES/django.po (docs/translating.md). The .mo
## files are built, never committed; compiling needs GNU gettext's msgfmt (Debian's package gettext).
MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
messages: $(MO)
## msgfmt itself, as compilemessages runs it, so that compiling needs no settings (a DATABASE_URL alone would ask
## for production's secrets).
$(MO): %.mo: %.po
	msgfmt --check-format -o $@ $<

migrate: $(VENV)/.installed $(MO)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## Serve the demo on http://$(HOST) (SQLite, tasks run in-process unless CELERY_BROKER_URL is set), with
## ballots opening and closing at their times (apply_schedules, every 10 s) and webhook retries sent when due
## (send_webhooks, every 30 s), both stopped with the server.
run: seed
	$(BIN)/python manage.py apply_schedules --every 10 & pid=$$!; \
	$(BIN)/python manage.py send_webhooks --every 30 & hooks=$$!; trap 'kill $$pid $$hooks' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST)

# The tests keep bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE): without it every run,
# every xdist worker and every subprocess a test starts compiles the project again, and pytest rewrites the asserts of
# the test modules and of its plugins' packages again (about 6 s of CPU per worker). __pycache__/ is ignored by git.
test test-fast: export PYTHONDONTWRITEBYTECODE =

## Run the whole suite (SQLite by default; PostgreSQL when DATABASE_URL is set).
test: $(VENV)/.installed-test $(MO)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## The fast lane while you work: everything but the browser tests and the tests marked slow (over 3 s each), and
## at most 8 drawn examples of each fuzzed form or address (tests/fuzzing.py) besides its explicit ones.
test-fast: $(VENV)/.installed-test $(MO)
	FUZZ_AT_MOST=8 $(BIN)/python -m pytest -n 2 -m 'not browser and not slow' $(PYTEST_ARGS)

## The verifier alone (plenary-tally) in a second environment with the oldest numpy it allows, checking bundles
## written with the newest: 500 random ballots, and the demo ballot as the server exports it with its checkpoint checked
## against the key that signed it.
OLDEST := var/oldest
test-oldest: $(VENV)/.installed-test
	rm -rf $(OLDEST) && mkdir -p $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)/venv
	$(OLDEST)/venv/bin/pip install --quiet --upgrade pip
	$(OLDEST)/venv/bin/pip install --quiet "numpy==$$(sed -n 's/.*"numpy>=\([0-9.]*\),.*/\1/p' tally/pyproject.toml)" ./tally
	$(OLDEST)/venv/bin/python -c "import numpy, plenary_tally; print('oldest: numpy', numpy.__version__)"
	$(BIN)/python tests/analysis/randomballots.py write $(OLDEST)/bundles --count 500
	$(BIN)/python tests/analysis/randomballots.py digests $(OLDEST)/bundles > $(OLDEST)/newest.txt
	for threads in 1 2; do \
	    env -i PATH=/usr/bin:/bin OPENBLAS_NUM_THREADS=$$threads $(OLDEST)/venv/bin/python \
	        tests/analysis/randomballots.py verify $(OLDEST)/bundles || exit 1; \
	    env -i PATH=/usr/bin:/bin OPENBLAS_NUM_THREADS=$$threads $(OLDEST)/venv/bin/python \
	        tests/analysis/randomballots.py digests $(OLDEST)/bundles | cmp - $(OLDEST)/newest.txt || exit 1; \
	done
	$(BIN)/python -c "from plenary_tally import notes; print(notes.generate_signer('oldest.localhost'))" > $(OLDEST)/log.key
	DATABASE_URL=sqlite:///$(abspath $(OLDEST))/demo.sqlite3 SECRET_KEY=oldest-check ALLOWED_HOSTS=localhost \
	    AUDIT_LOG_KEY_FILE=$(abspath $(OLDEST))/log.key \
	    sh -c '$(BIN)/python manage.py migrate -v0 && $(BIN)/python manage.py seed_demo >/dev/null && \
	    $(BIN)/python manage.py export_tally open-model/components-0-0-9 --out $(OLDEST)/demo.zip'
	env -i PATH=/usr/bin:/bin $(OLDEST)/venv/bin/plenary-tally $(OLDEST)/demo.zip --verify \
	    --log-key "$$($(BIN)/python -c "from plenary_tally import notes; print(notes.verifier_of(open('$(OLDEST)/log.key').read().strip()))")"

## Benchmarks at 10,000, 100,000 and 1,000,000 votes, each figure beside its baseline (about 20 minutes).
## Needs PostgreSQL on 127.0.0.1:5432 as CI starts it; BENCH_ARGS="--quick" for 10,000 and 100,000 only.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## ruff's lint and format checks, and mypy with the Django plugin (pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## A Celery worker, for when CELERY_BROKER_URL points at Redis.
worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) var
