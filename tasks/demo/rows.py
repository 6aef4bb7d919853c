"""Light rows for the generated year, and their writer (ids allocated up front, then COPY or executemany).

A Django model instance costs ~20 µs to build and as much again in bulk_create; the full
year has ~750,000 rows. The generator works on these slotted rows instead, with the same
attribute names as the models, and `Table` turns them into tuples for every concrete
column of the model: a field the generator does not set gets the model field's default,
so a field added to a model later still loads.
"""

from django.db import connection, models

from .fastinsert import datetime_adapter, insert_rows, json_value


class Row:
    """A row to insert; attributes not given stay unset and take the model field's default."""

    __slots__ = ("pk",)

    def __init__(self, **values):
        self.pk = None
        for name in self.__slots__:
            if name != "pk":
                setattr(self, name, values.pop(name, None))
        if values:
            raise TypeError(f"{type(self).__name__} has no {', '.join(values)}")


class TaskRow(Row):
    __slots__ = ("title", "state", "channel", "category", "urgency", "township", "lead_department", "created_at",
                 "reported_at", "reviewed_at", "assigned_at", "accepted_at", "replied_at", "closed_at",
                 "accept_deadline", "deadline", "callback_deadline", "deadline_rule", "extension_count", "review_note",
                 "outcome", "reply", "supervision_level", "redo_count", "merged_into", "episode")

    def __init__(self, **values):
        super().__init__(**values)
        self.extension_count = self.extension_count or 0
        self.supervision_level = self.supervision_level or 0
        self.redo_count = self.redo_count or 0
        self.review_note = self.review_note or ""
        self.outcome = self.outcome or ""
        self.reply = self.reply or ""


class SuggestionRow(Row):
    __slots__ = ("tracking_number", "channel", "external_id", "received_at", "registered_at", "registered_by",
                 "citizen_name", "phone", "township", "village", "content", "category", "urgency",
                 "content_fingerprint", "task")


class EventRow(Row):
    __slots__ = ("task", "action", "actor", "at", "from_state", "to_state", "note", "data")

    def __init__(self, task, action, actor, at, from_state, to_state, note, data):  # noqa: PLR0913 (hot path)
        self.pk = None
        self.task, self.action, self.actor, self.at = task, action, actor, at
        self.from_state, self.to_state, self.note, self.data = from_state, to_state, note, data


class CallbackRow(Row):
    __slots__ = ("task", "suggestion", "result", "note", "called_at", "called_by")


class RequestRow(Row):
    __slots__ = ("task", "kind", "status", "department", "reason", "requested_deadline", "previous_state",
                 "requested_by", "requested_at", "decided_by", "decided_at", "decision_note", "granted_deadline")

    def __init__(self, **values):
        super().__init__(**values)
        self.previous_state = self.previous_state or ""
        self.decision_note = self.decision_note or ""


class AssistRow(Row):
    __slots__ = ("task", "department", "deadline", "reply", "replied_at")

    def __init__(self, **values):
        super().__init__(**values)
        self.reply = self.reply or ""


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

    The row-to-tuple conversion is generated once per table as one Python function with
    every column inline (as dataclasses generates __init__): a call per field would cost
    more than everything else for the ~560,000 timeline rows.
    """

    def __init__(self, model, row_class, *, with_ids: bool):
        self.model = model
        self.columns, expressions, defaults = [], [], []
        slots = set(row_class.__slots__) | {"pk"}
        for field in model._meta.concrete_fields:
            if field.primary_key and not with_ids:
                continue
            self.columns.append(field.column)
            name = "pk" if field.primary_key else field.name
            if name not in slots:
                # A column the generator does not know (added to the model later): its default.
                defaults.append(_default(field))
                expressions.append(f"_defaults[{len(defaults) - 1}]")
            elif field.primary_key:
                expressions.append("row.pk")
            elif field.is_relation:
                expressions.append(f"(None if row.{name} is None else row.{name}.pk)")
            elif isinstance(field, models.DateTimeField):
                expressions.append(f"(None if row.{name} is None else _moment(row.{name}))")
            elif isinstance(field, models.JSONField):
                expressions.append(f"_document(row.{name})")
            elif field.has_default() and field.get_default() is not None:
                defaults.append(_default(field))
                expressions.append(f"(_defaults[{len(defaults) - 1}] if row.{name} is None else row.{name})")
            else:
                expressions.append(f"row.{name}")
        namespace = {"_defaults": defaults, "_moment": _moment_adapter(), "_document": _document}
        exec(f"def convert(row):\n    return ({', '.join(expressions)},)", namespace)  # noqa: S102 (generated above)
        self.convert = namespace["convert"]

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
        return insert_rows(self.model, self.columns, list(map(self.convert, rows)))


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
