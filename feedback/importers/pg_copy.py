"""PostgreSQL's COPY for the import's three tables: several times faster than bulk_create.

bulk_create spends most of its time compiling one parameter per cell in Python; COPY
streams tab-separated text. Ids are drawn from the tables' own sequences first, so
the suggestions and timeline can point at their task without a RETURNING round trip.
Every concrete field is written: the values given, else the field's default (as
Model.__init__ would set it), so a field added to a model later is not left out.
COPY runs inside the caller's transaction and is undone with it.
"""

import enum
import io
import json
import re

from django.db import connection, models

_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def available() -> bool:
    """True on PostgreSQL through psycopg2 (whose cursors have copy_expert)."""
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    return hasattr(connection.connection.cursor(), "copy_expert")


def reserve_ids(model, n: int) -> list[int]:
    """n new primary keys from the table's sequence (identity or serial)."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, n]
        )
        return [row[0] for row in cursor.fetchall()]


def _text(value) -> str:
    """Any value in COPY's text format (used for defaults; rows go through _converter)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()  # aware datetimes keep their offset; PostgreSQL converts
    return _escape(str(value))


def _escape(text: str) -> str:
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def _converter(field):
    """The fastest correct conversion for one column, chosen once per COPY, not per cell."""
    if isinstance(field, (models.CharField, models.TextField)):
        return lambda v: "\\N" if v is None else _escape(v)
    if isinstance(field, (models.IntegerField, models.AutoField, models.ForeignKey)) and not isinstance(
        field, models.BooleanField
    ):
        return lambda v: "\\N" if v is None else str(int(v))
    if isinstance(field, models.DateTimeField):
        return lambda v: "\\N" if v is None else v.isoformat()
    return _text


def copy_rows(model, rows: list[dict]) -> None:
    """COPY rows (dicts keyed by field attname) into the model's table."""
    if not rows:
        return
    given = set().union(*rows)
    varying, tail_fields, tail = [], [], []
    for field in model._meta.concrete_fields:
        name = field.attname
        if name in given:
            varying.append((field, name, _converter(field), lambda field=field: _text(field.get_default())))
        elif field.has_default() and callable(field.default):
            # Evaluated per row, as Model.__init__ does.
            varying.append((field, name, _text, lambda field=field: _text(field.get_default())))
        elif field.primary_key or (field.null and field.get_default() is None):
            continue  # the table's own default: the sequence, or NULL
        else:
            tail_fields.append(field)
            tail.append(_text(field.get_default()))
    # Columns no row sets hold the same default on every line: one string, appended.
    suffix = "\t" + "\t".join(tail) + "\n" if tail else "\n"
    cells = [(name, convert, default) for _field, name, convert, default in varying]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(convert(row[name]) if name in row else default() for name, convert, default in cells))
        buffer.write(suffix)
    fields = [field for field, *_ in varying] + tail_fields
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # The raw cursor's errors are psycopg2's own; this turns a unique violation into
    # django.db.IntegrityError, which the import catches to check and retry the batch.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN", buffer)
