# The two commands: `make run` (the demo site with its background jobs) and `make test`.
# Both create .venv with $(PYTHON) (3.11 or newer) and install requirements only when
# a requirements file changed (a stamp file in .venv remembers the last install).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test test-docker messages bench backup restore restore-file python-version

help:
	@echo "make run       create .venv, install, migrate, load the demo into an empty database,"
	@echo "               then run the web server (HOST=127.0.0.1 PORT=8000), a Celery worker and beat"
	@echo "make test      run the tests (SQLite; PostgreSQL when DATABASE_URL is set); PYTEST_ARGS=... passes options"
	@echo "make test-docker  build and start compose.yaml's whole stack, check /healthz answers 200, take it down (needs Docker)"
	@echo "make messages  update and compile the Chinese translations (needs GNU gettext)"
	@echo "make bench     run every bench/*.py with its defaults on DATABASE_URL (use a scratch database)"
	@echo "make backup    write backups/dingzhou-<time>.tar: the database (pg_dump) and MEDIA_ROOT"
	@echo "make restore FILE=backups/...tar   restore a backup into an EMPTY database and MEDIA_ROOT"

# Checks the Python that will build .venv, or the one inside an existing .venv.
python-version:
	@py="$(PYTHON)"; [ -x "$(PY)" ] && py="$(PY)"; \
	if ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		found=$$(command -v "$$py" >/dev/null && "$$py" --version 2>&1 || echo "not found"); \
		echo "dingzhou needs Python 3.11 or newer, but '$$py' is $$found." >&2; \
		echo "Install Python 3.11+ and run, for example: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; \
		[ "$$py" = "$(PY)" ] && echo "(delete $(VENV) first: it was made with that older Python)" >&2; \
		exit 1; \
	fi

$(PY): | python-version
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt, so this stamp covers both.
$(VENV)/.requirements-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $(VENV)/.requirements $@

# exec: a SIGTERM that make forwards must reach bin/run itself, not an intermediate shell.
run: python-version $(VENV)/.requirements
	exec env PY=$(PY) bin/run

test: python-version $(VENV)/.requirements-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# The tests marked `docker` (tests/test_compose_stack.py), which `make test` leaves out: they need a
# Docker daemon with the compose plugin, and build the image (network access for apt and pip).
test-docker: python-version $(VENV)/.requirements-dev
	$(PY) -m pytest -m docker -p no:randomly $(PYTEST_ARGS)

# The .mo file is committed (as Django does), so a new machine needs no gettext tools.
messages: python-version $(VENV)/.requirements
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore='.venv/*'

# Each script documents its options; they create and delete their own rows, so point
# DATABASE_URL at a scratch database rather than the demo.
bench: python-version $(VENV)/.requirements
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

# One tar file: pg_dump's custom format (or a copy of the SQLite file) and MEDIA_ROOT (ops/backup.py).
backup: python-version $(VENV)/.requirements
	$(PY) manage.py backup

# Refuses a database that has tables and a MEDIA_ROOT that has files: create a new one first.
restore: restore-file python-version $(VENV)/.requirements
	$(PY) manage.py restore "$(FILE)"

restore-file:
	@if [ -z "$(FILE)" ]; then echo "usage: make restore FILE=backups/dingzhou-YYYYmmdd-HHMMSS.tar" >&2; exit 2; fi
