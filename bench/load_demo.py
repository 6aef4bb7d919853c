"""Benchmark: `load_demo` into a fresh database, then a second (no-op) run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dz .venv/bin/python bench/load_demo.py
    .venv/bin/python bench/load_demo.py                       # SQLite (a file under var/)
    .venv/bin/python bench/load_demo.py --suggestions 10000 --keep

Never touches the database DATABASE_URL names: it creates a sibling, on PostgreSQL the
database `<name>_load_demo_bench` on the same server, on SQLite the file
var/load_demo_bench.sqlite3, migrates it, times the full load_demo (default 61,000
suggestions), times a second run (which must change nothing), and prints the rows per
table, the tasks per state, the process's peak memory and the database's size. The
sibling is dropped at the end unless --keep. Tables of models that have no migration yet
are created from the models, so the script runs before the migrations are regenerated.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import environ

import _common  # this folder is first on sys.path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")


def sibling_url(url: str) -> str:
    """The throwaway database's URL next to the one given."""
    config = environ.Env.db_url_config(url)
    if "postgresql" in config["ENGINE"]:
        base, _, _name = url.partition("?")[0].rpartition("/")
        return f"{base}/{config['NAME']}_load_demo_bench"
    if "sqlite" in config["ENGINE"]:
        return f"sqlite:///{BASE_DIR / 'var' / 'load_demo_bench.sqlite3'}"
    raise SystemExit(f"bench/load_demo.py knows PostgreSQL and SQLite, not {config['ENGINE']}")


def recreate(url: str, *, drop_only: bool = False) -> None:
    """Drop the throwaway database and (unless drop_only) create it empty."""
    config = environ.Env.db_url_config(url)
    if "sqlite" in config["ENGINE"]:
        path = Path(config["NAME"])
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg2

    server = psycopg2.connect(dbname="postgres", user=config["USER"] or None, password=config["PASSWORD"] or None,
                              host=config["HOST"] or None, port=config["PORT"] or None)
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suggestions", type=int, default=61000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database for a look")
    args = parser.parse_args()

    url = sibling_url(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'dingzhou.sqlite3'}")
    recreate(url)
    os.environ["DATABASE_URL"] = url

    import django

    django.setup()
    from django.db import connection

    from tasks import demo

    started = time.monotonic()
    _common.ensure_schema()
    print(f"database {connection.settings_dict['NAME']} ({connection.vendor}) migrated in "
          f"{time.monotonic() - started:.1f}s")

    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    cpu = time.process_time()
    first = demo.load_demo(seed=seed, suggestions=args.suggestions, log=lambda message: None)
    cpu = time.process_time() - cpu
    counts = demo.table_counts()
    second = demo.load_demo(seed=seed, suggestions=args.suggestions, log=lambda message: None)
    assert demo.table_counts() == counts, "the second run changed the data"

    print(f"load_demo --suggestions {args.suggestions}: {first['seconds']:.1f}s "
          f"(this process's CPU {cpu:.1f}s; the rest is the database and waiting)")
    print(f"second run (nothing to do): {second['seconds']:.1f}s")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("rows per table:")
    for label, count in counts.items():
        print(f"  {label:<22} {count:>9,}")
    print("tasks per state:")
    for state, count in demo.state_counts().items():
        print(f"  {state:<22} {count:>9,}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size: {cursor.fetchone()[0]}")
            cursor.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6"
            )
            for table, size in cursor.fetchall():
                print(f"  {table:<28} {size:>10} (with indexes)")
    else:
        print(f"database size: {Path(connection.settings_dict['NAME']).stat().st_size / 2**20:.0f} MB")
    connection.close()
    if not args.keep:
        recreate(url, drop_only=True)


if __name__ == "__main__":
    main()
