# The two commands: `make run` (set up and start web + worker) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test setup test-system-packages bench lock

run: setup
	$(PY) manage.py abf_serve

test: setup test-system-packages
	$(PY) -m pytest
	$(PY) -m tests.production

# Real parts for the tests: Debian's chromium for the browser tests,
# bubblewrap for the local executor's sandbox, Docker's engine for the
# container executor, PostgreSQL and Redis for the production tests (started
# by the tests on loopback, in their own folders). Tests that need a missing
# part skip and say why.
test-system-packages:
	@command -v chromium >/dev/null 2>&1 && command -v bwrap >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 \
	  && command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium bubblewrap docker.io iptables postgresql redis-server) >/dev/null 2>&1 \
	  || echo "note: could not install chromium, bubblewrap, docker.io, postgresql or redis-server; the tests that need them will skip"; }

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
