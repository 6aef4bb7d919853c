"""Light rows for the generated year, and their writer (ids allocated up front, then COPY or executemany).

A Django model instance costs ~20 µs to build and as much again in bulk_create; the full
year has ~750,000 rows. The generator works on these plain rows instead, with the same
attribute names as the models, and `Table` turns them into tuples for every concrete
column of the model: a field the generator does not set gets the model field's default,
so a field added to a model later still loads.
"""

import time

from django.db import connection, models

from .fastinsert import NULL, _copy_field, copy_lines, copy_text, datetime_adapter, insert_rows, json_value


class Row:
    """A row to insert: the model's attribute names; a field not set keeps the class default (None)."""

    FIELDS: tuple = ()
    pk = None

    def __init_subclass__(cls):
        cls._known = frozenset(cls.FIELDS)
        for name in cls.FIELDS:
            if not hasattr(cls, name):
                setattr(cls, name, None)

    def __init__(self, **values):
        unknown = values.keys() - self._known
        if unknown:
            raise TypeError(f"{type(self).__name__} has no {', '.join(sorted(unknown))}")
        self.__dict__.update(values)


class TaskRow(Row):
    FIELDS = ("title", "state", "channel", "category", "urgency", "township", "lead_department", "created_at",
              "reported_at", "reviewed_at", "assigned_at", "accepted_at", "replied_at", "closed_at", "accept_deadline",
              "deadline", "callback_deadline", "deadline_rule", "extension_count", "review_note", "outcome", "reply",
              "supervision_level", "redo_count", "merged_into", "episode", "clock_paused_at", "paused_seconds",
              "return_count")
    extension_count = supervision_level = redo_count = paused_seconds = return_count = 0
    review_note = outcome = reply = ""


class SuggestionRow(Row):
    FIELDS = ("tracking_number", "channel", "external_id", "received_at", "registered_at", "registered_by",
              "citizen_name", "phone", "township", "village", "content", "category", "urgency", "content_fingerprint",
              "content_bigrams", "task")


class EventRow(Row):
    FIELDS = ("task", "action", "actor", "at", "from_state", "to_state", "note", "data")

    def __init__(self, task, action, actor, at, from_state, to_state, note, data):  # noqa: PLR0913 (hot path)
        self.task, self.action, self.actor, self.at = task, action, actor, at
        self.from_state, self.to_state, self.note, self.data = from_state, to_state, note, data


class CallbackRow(Row):
    FIELDS = ("task", "suggestion", "result", "note", "called_at", "called_by")
    note = ""


class RequestRow(Row):
    FIELDS = ("task", "kind", "status", "department", "reason", "reason_code", "requested_deadline", "previous_state",
              "requested_by", "requested_at", "decided_by", "decided_at", "decision_note", "granted_deadline")
    previous_state = decision_note = reason_code = ""


class AssistRow(Row):
    FIELDS = ("task", "department", "deadline", "reply", "replied_at", "accepted_at", "accepted_by", "waived_at",
              "waived_by", "waive_reason")
    reply = waive_reason = ""


def ref_id(value):
    """The id of a stored model instance or of a Row (allocated before writing)."""
    return value.pk if isinstance(value, (models.Model, Row)) else value


def resolve_refs(value):
    """Timeline details name rows by object until they have ids; store the ids."""
    if isinstance(value, dict):
        return {key: resolve_refs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_refs(item) for item in value]
    return ref_id(value)


def _default(field):
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json_value(value)
    return field.get_db_prep_save(value, connection)


class Table:
    """Writes Rows of one model: allocates their ids (when `with_ids`) and inserts every concrete column.

    The row conversion is generated once per table as one Python function with every
    column inline (as dataclasses generates __init__), because a call per field would cost
    more than everything else for the ~560,000 timeline rows: on PostgreSQL it makes the
    line of COPY text, elsewhere the tuple of parameters for executemany.
    """

    def __init__(self, model, row_class, *, with_ids: bool):
        self.model = model
        self.copy = connection.vendor == "postgresql"
        self.rows, self.seconds_converting, self.seconds_inserting = 0, 0.0, 0.0
        self.columns, expressions = [], []
        slots = set(row_class.FIELDS) | {"pk"}
        namespace = {"_moment": _moment_adapter(), "_document": _document, "_text": copy_text, "_N": NULL,
                     "_defaults": []}
        for field in model._meta.concrete_fields:
            if field.primary_key and not with_ids:
                continue
            self.columns.append(field.column)
            name = "pk" if field.primary_key else field.name
            expressions.append(self._expression(field, name, name in slots, namespace["_defaults"]))
        if self.copy:
            body = 'f"' + "\\t".join("{" + e + "}" for e in expressions) + '\\n"'
        else:
            body = "(" + ", ".join(expressions) + ",)"
        exec(f"def convert(row):\n    return {body}", namespace)  # noqa: S102 (built from the model's fields)
        self.convert = namespace["convert"]

    def _expression(self, field, name: str, known: bool, defaults: list) -> str:
        """Python source for one column's value (COPY text on PostgreSQL, a parameter elsewhere)."""
        copy = self.copy
        if not known:
            # A column the generator does not know (added to the model later): its default.
            defaults.append(_copy_field(_default(field)) if copy else _default(field))
            return f"_defaults[{len(defaults) - 1}]"
        value = f"row.{name}"
        none = "_N" if copy else "None"
        if field.primary_key:
            return value
        if field.is_relation:
            return f"({none} if {value} is None else {value}.pk)"
        if isinstance(field, models.DateTimeField):
            return f"({none} if {value} is None else _moment({value}))"
        if isinstance(field, models.JSONField):
            return f"_text(_document({value}))" if copy else f"_document({value})"
        if field.has_default() and field.get_default() is not None:
            defaults.append(_copy_field(_default(field)) if copy else _default(field))
            none = f"_defaults[{len(defaults) - 1}]"
        if isinstance(field, (models.CharField, models.TextField)) and copy:
            return f"({none} if {value} is None else _text({value}))"
        return f"({none} if {value} is None else {value})"

    def allocate(self, rows: list) -> None:
        """Give each row an id the database will not hand out to anyone else."""
        if not rows:
            return
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
                )
                ids = [row[0] for row in cursor.fetchall()]
            else:
                # SQLite: the load holds the database's write lock for its whole transaction.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
                first = cursor.fetchone()[0] + 1
                ids = range(first, first + len(rows))
        for row, pk in zip(rows, ids):
            row.pk = pk

    def write(self, rows: list) -> int:
        started = time.monotonic()
        values = list(map(self.convert, rows))
        converted = time.monotonic()
        if self.copy:
            copy_lines(self.model, self.columns, values)
        else:
            insert_rows(self.model, self.columns, values)
        self.seconds_converting += converted - started
        self.seconds_inserting += time.monotonic() - converted
        self.rows += len(values)
        return len(values)


def _moment_adapter():
    convert = datetime_adapter()

    def moment(value):
        # Timeline rows come already converted (a cache per instant: many share one).
        return value if isinstance(value, str) else convert(value)

    return moment


def _document(value) -> str:
    if not value:
        return "{}" if value is None or isinstance(value, dict) else json_value(value)
    return json_value(resolve_refs(value))
