"""The benchmark scripts still run: each one, at a tiny size, on a scratch PostgreSQL database.

The scripts write their own SQL (INSERT … SELECT generate_series), so a new NOT NULL
column breaks them without any other test noticing; this runs each one end to end and
checks it printed its figures. Nothing is timed here (bench/README.md holds the figures).
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

# (script, arguments, a line fragment its output must contain)
SCRIPTS = [
    ("report_card.py", ["--rows", "3000", "--fresh", "--repeat", "2"], "target (rollups)"),
    ("report_pages.py", ["--rows", "3000", "--repeat", "2", "--pdf-repeat", "1"], "p95"),
    ("open311.py", ["--rows", "3000", "--fresh", "--repeat", "2"], "target: p95"),
    ("task_list.py", ["--rows", "3000", "--runs", "2"], "search 2 chars, rare"),
    ("reminders.py", ["--tasks", "1000"], "tasks_notification"),
    ("import_suggestions.py", ["--rows", "2000", "--no-reference", "--batch-size", "500"], "imported=2000"),
    ("load_demo.py", ["--suggestions", "300"], "database size"),
]


def _admin(url: str):
    parts = urlsplit(url)
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")  # fmt: skip
    admin.autocommit = True
    return admin


@pytest.fixture(scope="module")
def scratch_url(django_db_blocker):
    """A PostgreSQL database of its own next to the test database, migrated, dropped at the end."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            from .services import missing

            missing("DATABASE_URL does not point at PostgreSQL")
        url = os.environ["DATABASE_URL"]
        name = f"{connection.settings_dict['NAME']}_bench"
    parts = urlsplit(url)
    scratch = urlunsplit(parts._replace(path=f"/{name}"))
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": scratch}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    yield scratch
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}_load_demo_bench" WITH (FORCE)')
    admin.close()


@pytest.mark.parametrize("script,arguments,expected", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_benchmark_script_runs_and_prints_its_figures(scratch_url, script, arguments, expected):
    env = {**os.environ, "DATABASE_URL": scratch_url, "REQUIRE_SERVICES": ""}
    done = subprocess.run([sys.executable, f"bench/{script}", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert expected in output, output[-3000:]
