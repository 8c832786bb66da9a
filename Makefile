# The two commands: `make run` (set up and start web + worker) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup bench lock

run: setup
	$(PY) manage.py abf_serve

test: setup
	$(PY) -m pytest

setup: $(VENV)/.installed
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py abf_setup

# Reinstall only when the lock changes, so running twice is quick and safe.
$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	touch $@

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Refresh the pins after changing pyproject.toml dependencies.
lock:
	$(PY) -m pip freeze --exclude-editable > requirements.lock
