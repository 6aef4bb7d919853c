"""Plain-row inserts for the generator's largest table (the timeline), without model instances.

bulk_create builds a model instance and prepares every field of every row: for the ~560,000
timeline rows of a full demo year that alone takes longer than the rest of the load. Rows
that nothing refers back to are written here as tuples of database values instead: with
COPY on PostgreSQL, with one prepared statement (executemany) elsewhere.
"""

import contextlib
import datetime as dt
import io
import json
import time

from django.db import connection


NULL = r"\N"  # COPY's text format for NULL


def copy_text(value: str) -> str:
    """A string as a field of COPY's text format: backslash, tab and line breaks escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_field(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def datetime_adapter():
    """A function turning an aware datetime into what the database driver takes.

    SQLite stores naive UTC text (as django.db.backends.sqlite3 writes it); PostgreSQL's
    COPY reads ISO 8601 with the offset.
    """
    if connection.vendor == "postgresql":
        return dt.datetime.isoformat
    utc = dt.timezone.utc

    def sqlite(value: dt.datetime) -> str:
        return str(value.astimezone(utc).replace(tzinfo=None))

    return sqlite


def json_value(value) -> str:
    """As JSONField stores it (json.dumps with the default encoder)."""
    return json.dumps(value)


def copy_lines(model, columns: list[str], lines: list[str]) -> int:
    """COPY ready lines of text format into the model's table (PostgreSQL)."""
    if not lines:
        return 0
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN", io.StringIO("".join(lines)))
    return len(lines)


def insert_rows(model, columns: list[str], rows: list[tuple]) -> int:
    """Insert `rows` (tuples of database values in `columns` order) into the model's table."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            buffer.writelines("\t".join(map(_copy_field, row)) + "\n" for row in rows)
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    return len(rows)


@contextlib.contextmanager
def constraints_and_inverted_indexes_rebuilt_after(models_, *, adding: int, log=None):
    """On PostgreSQL, drop these tables' foreign keys and GIN/GiST indexes now; restore them at the end.

    PostgreSQL's own advice for populating a database ("Populating a Database": remove
    indexes and foreign-key constraints, add them back afterwards). Row by row, a foreign
    key costs a trigger and a row lock on the referenced row for each of the ~1.9 million
    references of a demo year, and a GIN index (the bigram search on contents) ~50 entries
    per row; checking a constraint or building an index once at the end is several times
    faster. The constraints are validated when added back, so nothing goes unchecked.

    Only inside the caller's transaction (a failure restores everything), and only for a
    table holding fewer rows than the load adds (on a big table, rebuilding would cost more
    than it saves). Dropping a foreign key locks both its tables, so the loaded tables and
    the ones they refer to (users, departments, townships) stay locked until the commit:
    load the demo before serving, as bin/run does.
    """
    if connection.vendor != "postgresql":
        yield
        return
    assert connection.in_atomic_block, "drop constraints only inside the loading transaction"
    constraints, indexes = [], []
    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred checks (of rows written earlier in this
        # transaction) are queued on a table it touches: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in models_:
            table = model._meta.db_table
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            if cursor.fetchone()[0] >= adding:
                continue
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} "
                               f"DROP CONSTRAINT {connection.ops.quote_name(name)}")
                constraints.append((table, name, definition))
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam
                WHERE i.indrelid = %s::regclass AND am.amname IN ('gin', 'gist')
                  AND NOT i.indisunique AND NOT i.indisprimary
                ORDER BY 1
                """,
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                indexes.append(definition)
    yield
    started = time.monotonic()
    with connection.cursor() as cursor:
        for definition in indexes:
            cursor.execute(definition)
        indexed = time.monotonic()
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} "
                           f"ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
    if log:
        log(f"{len(indexes)} search indexes rebuilt in {indexed - started:.1f}s, "
            f"{len(constraints)} foreign keys added back and checked in {time.monotonic() - indexed:.1f}s")
