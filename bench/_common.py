"""What the benchmarks share: a scratch PostgreSQL database, Django on it, the schema, the
city's 25 townships with their offices, and the secondary indexes a bulk load drops and rebuilds.

Imported as `_common` by the scripts in this folder (run as `python bench/<script>.py`,
which puts this folder first on sys.path). Django is imported inside the functions: the
database must exist before django.setup().
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

# DOMAIN.md's 25 township-level units, in the order the city lists them.
TOWNSHIPS = [
    "南城区街道", "北城区街道", "西城区街道", "长安路街道", "留早镇", "清风店镇", "庞村镇", "砖路镇", "明月店镇",
    "叮咛店镇", "东亭镇", "大辛庄镇", "东旺镇", "高蓬镇", "邢邑镇", "李亲顾镇", "子位镇", "开元镇", "周村镇",
    "息冢镇", "东留春乡", "号头庄回族乡", "杨家庄乡", "大鹿庄乡", "西城乡",
]  # fmt: skip


def short_name(township: str) -> str:
    """留早镇 -> 留早, 南城区街道 -> 南城区, 号头庄回族乡 -> 号头庄."""
    return township.removesuffix("街道").removesuffix("回族乡").removesuffix("镇").removesuffix("乡")


def ensure_database(url: str) -> None:
    """CREATE DATABASE when the one in the URL does not exist yet (connecting to the server's postgres database)."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


def setup_django(default_url: str) -> None:
    """Point Django at DATABASE_URL (default_url when unset), which must be PostgreSQL, create it, set up Django."""
    os.environ.setdefault("DATABASE_URL", default_url)
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()


def ensure_schema(recreate_if_changed=()) -> None:
    """Apply the migrations, then create any table a model has and the migrations lack yet.

    A table of `recreate_if_changed` whose columns differ from its model (left by a bench
    run before the model changed, still without a migration) is dropped and created again:
    pass only models whose tables hold nothing but bench rows.
    """
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in recreate_if_changed:
            table = model._meta.db_table
            if table in existing:
                with connection.cursor() as cursor:
                    columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
                if columns != {f.column for f in model._meta.concrete_fields}:
                    editor.delete_model(model)
                    existing.discard(table)
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy and model._meta.db_table not in existing:
                editor.create_model(model)
                existing.add(model._meta.db_table)
                print(f"created table {model._meta.db_table} (no migration yet)")


def ensure_townships() -> list:
    """The 25 townships (get or create), in order."""
    from org.models import Township

    townships = []
    for i, name in enumerate(TOWNSHIPS):
        kind = Township.Kind.STREET if name.endswith("街道") else Township.Kind.TOWN
        defaults = {"short_name": short_name(name), "kind": kind, "sort_order": i}
        townships.append(Township.objects.get_or_create(name=name, defaults=defaults)[0])
    return townships


def ensure_township_offices(townships) -> list:
    """Each township's own office, a department that handles work for its area (get or create)."""
    from org.models import Department

    return [
        Department.objects.get_or_create(
            code=f"office{i}",
            defaults={"name": f"{township.name}办事处", "kind": Department.Kind.TOWNSHIP, "township": township,
                      "sort_order": 100 + i},
        )[0]
        for i, township in enumerate(townships)
    ]  # fmt: skip


def secondary_indexes(tables) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the tables' indexes that back no constraint: what a bulk load drops and rebuilds."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [list(tables)],
        )
        return cursor.fetchall()


def bulk_load(tables, rows: int, tasks_sql: str, task_params: dict, per_task: list[tuple[str, str]], chunk: int):
    """Fill `tables` from scratch inside PostgreSQL, in chunks, without a Python loop over rows.

    TRUNCATE the tables and drop their secondary indexes; insert the tasks with `tasks_sql`
    for ids lo..hi (plus `task_params`) `chunk` at a time; then run each (sql, label) of
    `per_task` over the task ids in chunks (suggestions, callbacks, timelines); rebuild the
    indexes and VACUUM ANALYZE. The random draws are seeded, so a rerun makes the same data.
    """
    import time

    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        indexes = secondary_indexes(tables)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT setseed(0.20211025)")
        for lo in range(1, rows + 1, chunk):
            hi = min(lo + chunk - 1, rows)
            cursor.execute(tasks_sql, {**task_params, "lo": lo, "hi": hi})
            print(f"  tasks {hi:,}/{rows:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("SELECT min(id), max(id) FROM tasks_task")
        first_id, last_id = cursor.fetchone()
        for sql, label in per_task:
            for lo in range(first_id, last_id + 1, chunk):
                cursor.execute(sql, {"lo": lo, "hi": lo + chunk - 1})
            print(f"  {label} done ({time.perf_counter() - started:.0f} s)", flush=True)
        for name, definition in indexes:
            cursor.execute(definition)
        print(f"  {len(indexes)} secondary indexes rebuilt ({time.perf_counter() - started:.0f} s)", flush=True)
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"loaded in {time.perf_counter() - started:.0f} s")
