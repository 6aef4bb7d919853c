"""Plain-row inserts for the generator's largest table (the timeline), without model instances.

bulk_create builds a model instance and prepares every field of every row: for the ~560,000
timeline rows of a full demo year that alone takes longer than the rest of the load. Rows
that nothing refers back to are written here as tuples of database values instead: with
COPY on PostgreSQL, with one prepared statement (executemany) elsewhere.
"""

import datetime as dt
import io
import json

from django.db import connection


def _copy_field(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
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
