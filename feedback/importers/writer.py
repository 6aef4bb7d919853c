"""Writing validated rows in bulk: tasks, suggestions and their timeline entries, as the services would.

bulk_create skips Model.save(), so the tracking number and content fingerprint that
Suggestion.save() sets are set here; the task and events carry exactly the fields of
feedback.services.suggestion_register (and tasks.services.task_assign for a row with a
department), so an imported suggestion cannot be told from one typed in.
"""

import contextlib
import datetime as dt
import os

from django.db import connection
from django.utils import timezone

from feedback.models import Suggestion
from feedback.models.suggestion import TRACKING_ALPHABET, content_bigrams, tracking_number
from tasks import calendar, deadlines
from tasks.models import Action, State, Task, TaskEvent

from . import pg_copy
from .validate import Row

# Any constant: imports (web jobs, the command) take it per batch, so two imports of
# the same file check for duplicates one after the other, never both before either writes.
_IMPORT_LOCK = 0x5D1A_0005


def begin_batch(*, durable: bool, lock: bool = True) -> None:
    """Start a batch's transaction (call inside transaction.atomic()): serialise imports (unless
    the caller holds the lock for its whole run: hold_import_lock), and on PostgreSQL commit
    without waiting for the disk unless `durable`.

    Rows without an external number have no unique constraint to fall back on; only the
    advisory lock stops two concurrent imports from both storing them. SQLite needs none:
    the project opens its transactions IMMEDIATE, which already takes the write lock.

    synchronous_commit off is safe for an import: a commit is still atomic and in order,
    only its last ~0.6 s may be lost if the database server itself crashes. Then the batches
    lost take their job's progress with them (the same transaction), so a resume or a rerun
    imports them again, and the duplicate rule keeps it from storing anything twice. The
    last batch commits durably, which flushes all the batches before it, so once the import
    returns every row it counted is on disk. Waiting for the disk at every commit costs the
    import up to a few ms per batch on a busy machine, for nothing it needs.
    """
    if connection.vendor == "postgresql":
        setting = "on" if durable else "off"
        with connection.cursor() as cursor:
            if lock:
                cursor.execute("SELECT pg_advisory_xact_lock(%s), set_config('synchronous_commit', %s, true)",
                               [_IMPORT_LOCK, setting])
            else:
                cursor.execute("SELECT set_config('synchronous_commit', %s, true)", [setting])


@contextlib.contextmanager
def hold_import_lock():
    """The import lock for as long as the block runs, on this connection (outside any transaction).

    For an import whose batches are written on other connections (lanes.py): they take no
    lock of their own, so other imports wait for the whole of this one, not batch by batch.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_IMPORT_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_IMPORT_LOCK])


def refresh_statistics() -> None:
    """ANALYZE the suggestions table on PostgreSQL (outside the batch transactions).

    A big import into a small table leaves the planner's row counts far behind: with
    them it reads the whole table for every batch's duplicate check instead of using
    the fingerprint and number indexes, and the import slows down as it grows.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Only the columns the duplicate queries filter on: half the time of a whole-table
        # ANALYZE, which also evaluates every expression index (the bigram one) on its sample.
        quote = connection.ops.quote_name
        columns = ", ".join(quote(Suggestion._meta.get_field(name).column)
                            for name in ("channel", "external_id", "content_fingerprint"))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {quote(Suggestion._meta.db_table)} ({columns})")


def stored_duplicates(rows: list[Row]) -> dict[tuple, str]:
    """Duplicate key -> tracking number of the stored suggestion, for the rows already stored."""
    found: dict[tuple, str] = {}
    by_channel: dict[str, list[str]] = {}
    fingerprints = set()
    for row in rows:
        if row.external_id:
            by_channel.setdefault(row.channel, []).append(row.external_id)
        else:
            fingerprints.add(row.fingerprint)
    for channel, numbers in by_channel.items():
        # One query per channel, repeating the index's own condition (external_id <> ''), is
        # what lets PostgreSQL use the partial unique index; an OR over channels scans the table.
        for number, tracking in _stored(["external_id", "tracking_number"], "external_id", numbers, channel=channel):
            found[("number", channel, number)] = tracking
    if fingerprints:
        # Served by suggestion_fingerprint_idx; the township and date are compared here.
        zone = timezone.get_default_timezone()
        columns = ["content_fingerprint", "township_id", "received_at", "tracking_number"]
        for fingerprint, township_id, received_at, tracking in _stored(columns, "content_fingerprint", fingerprints):
            found.setdefault(("content", fingerprint, township_id, timezone.localdate(received_at, zone)), tracking)
    return found


def _stored(columns: list[str], key: str, values, *, channel: str | None = None):
    """The columns of stored suggestions whose `key` is one of values (and of that channel, when given).

    On PostgreSQL one array parameter (key = ANY(%s)): a batch's 10,000 numbers would
    otherwise be 10,000 placeholders for Django to compile and psycopg2 to quote.
    """
    if connection.vendor != "postgresql":
        stored = Suggestion.objects.filter(**{f"{key}__in": list(values)})
        if channel is not None:
            stored = stored.filter(channel=channel).exclude(external_id="")
        return stored.order_by().values_list(*columns)
    where = f"{key} = ANY(%s)"
    params = [list(values)]
    if channel is not None:
        where += " AND channel = %s AND external_id <> ''"
        params.append(channel)
    # The driver's own cursor: with DEBUG on, Django would keep each of these queries, a
    # batch's 10,000 values spelt out (~100 KB a batch, 20 MB a million rows), in its log.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.execute(f"SELECT {', '.join(columns)} FROM {Suggestion._meta.db_table} WHERE {where}", params)
        return cursor.cursor.fetchall()


class Deadlines:
    """The rule table's deadlines for one batch: same start, so one lookup per category/urgency/channel."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self._stages: dict = {}
        self._days: dict = {}

    def for_row(self, row: Row):
        """(acceptance deadline, handling deadline, rule or None, custom, limits recorded) as task_assign sets them."""
        key = (row.category, row.urgency, row.channel)
        if key not in self._stages:
            self._stages[key] = deadlines.stage_deadlines(
                category=row.category, urgency=row.urgency, channel=row.channel, start=self.now
            )
        stages = self._stages[key]
        custom = None
        if row.deadline is not None:
            kind, value = row.deadline
            if kind == "days":
                if value not in self._days:
                    self._days[value] = deadlines.deadline_in_working_days(start=self.now, days=value)
                custom = self._days[value]
            else:
                custom = max(calendar.end_of_day(value), self.now)
        handle = custom or stages.handle
        # A short deadline must not leave more time to accept than to finish (as task_assign).
        limits = None if custom else stages.record()
        return min(stages.accept, handle), handle, (None if custom else stages.rule), custom is not None, limits


# Random byte -> its letter, as tracking_number() maps it (TRACKING_ALPHABET[byte & 31]).
_LETTERS = bytes(ord(TRACKING_ALPHABET[b & 31]) for b in range(256))


def tracking_numbers(rows: list[Row]) -> list[str]:
    """new_tracking_number()'s format (DZ + received date + 8 random characters), for a whole batch.

    One urandom call and one bytes.translate per batch instead of eight secrets.choice
    calls per row; 32 letters divide 256, so every letter stays equally likely. The date
    is the received time's in the current time zone (timezone.localtime), formatted once
    per day: per row, localtime and strftime cost more than the rest of the number.
    """
    letters = os.urandom(8 * len(rows)).translate(_LETTERS).decode("ascii")
    zone = timezone.get_current_timezone()
    days: dict = {}
    numbers, used = [], set()
    for i, row in enumerate(rows):
        day = row.received_at.astimezone(zone).date()
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = "DZ" + day.strftime("%Y%m%d")
        number = prefix + letters[8 * i: 8 * i + 8]
        while number in used:  # within the batch; a clash with a stored one fails the insert and is retried
            number = tracking_number(row.received_at, os.urandom(8))
        used.add(number)
        numbers.append(number)
    return numbers


def write_rows(rows: list[Row], *, user, now: dt.datetime, title, method: str = "") -> None:
    """Create one task, suggestion and timeline per row (call inside transaction.atomic()).

    method "copy" (PostgreSQL's COPY, the default there) or "bulk" (bulk_create, the
    default elsewhere) write the same values (tests compare them): both take the tracking
    numbers and deadlines from here.
    """
    if not rows:
        return
    actor_id = user.pk if user is not None else None
    plan = Deadlines(now)
    numbers = tracking_numbers(rows)
    assignments = [plan.for_row(row) if row.department_id else None for row in rows]
    method = method or ("copy" if pg_copy.available() else "bulk")
    if method == "copy":
        _copy_rows(rows, numbers, assignments, actor_id=actor_id, now=now, title=title)
    else:
        _bulk_rows(rows, numbers, assignments, actor_id=actor_id, now=now, title=title)


def _assign_data(row: Row, assignment) -> dict:
    accept, handle, rule, custom, limits = assignment
    return {
        "lead_department": row.department_id,
        "assisting_departments": [],
        "deadline": handle.isoformat(),
        "accept_deadline": accept.isoformat(),
        "assist_deadline": None,
        "deadline_rule": rule.pk if rule else None,
        "custom_deadline": custom,
        "deadline_limits": limits,
        "source": "import",
    }


def _bulk_rows(rows, numbers, assignments, *, actor_id, now, title) -> None:
    tasks, suggestions, events = [], [], []
    for row, tracking, assignment in zip(rows, numbers, assignments):
        task = {
            "title": title(row.content), "state": State.REGISTERED, "channel": row.channel,
            "category": row.category, "urgency": row.urgency, "township_id": row.township_id, "created_at": now,
        }
        register = {
            "action": Action.REGISTER, "actor_id": actor_id, "at": now, "from_state": "",
            "to_state": State.REGISTERED, "data": {"tracking_number": tracking, "source": "import"},
        }
        task_events = [register]
        if assignment is not None:
            accept, handle, rule, _custom, _limits = assignment
            task.update(state=State.ASSIGNED, lead_department_id=row.department_id, assigned_at=now,
                        accept_deadline=accept, deadline=handle, deadline_rule_id=rule.pk if rule else None)
            task_events.append({
                "action": Action.ASSIGN, "actor_id": actor_id, "at": now, "from_state": State.REGISTERED,
                "to_state": State.ASSIGNED, "data": _assign_data(row, assignment),
            })
        tasks.append(task)
        suggestions.append({
            "tracking_number": tracking, "channel": row.channel, "external_id": row.external_id,
            "received_at": row.received_at, "registered_at": now, "registered_by_id": actor_id,
            "citizen_name": row.citizen_name, "phone": row.phone, "township_id": row.township_id,
            "village_id": row.village_id, "content": row.content, "category": row.category,
            "urgency": row.urgency, "content_fingerprint": row.fingerprint,
        })
        events.append(task_events)
    # PostgreSQL and SQLite (3.35+) return the new ids, which the suggestions need.
    task_ids = [t.pk for t in Task.objects.bulk_create(Task(**t) for t in tasks)]
    for suggestion, task_id in zip(suggestions, task_ids):
        suggestion["task_id"] = task_id
    created = Suggestion.objects.bulk_create(Suggestion(**s) for s in suggestions)
    timeline = []
    for task_id, obj, task_events in zip(task_ids, created, events):
        task_events[0]["data"]["suggestion"] = obj.pk
        for event in task_events:
            event["task_id"] = task_id
            timeline.append(event)
    TaskEvent.objects.bulk_create(TaskEvent(**e) for e in timeline)


_TASK_COLUMNS = ("id", "title", "state", "channel", "category", "urgency", "township_id", "created_at",
                 "lead_department_id", "assigned_at", "accept_deadline", "deadline", "deadline_rule_id")
_SUGGESTION_COLUMNS = ("id", "tracking_number", "channel", "external_id", "received_at", "registered_at",
                       "registered_by_id", "citizen_name", "phone", "township_id", "village_id", "content",
                       "category", "urgency", "content_fingerprint", "task_id", "content_bigrams")
_EVENT_COLUMNS = ("task_id", "action", "actor_id", "at", "from_state", "to_state", "data")


def _copy_rows(rows, numbers, assignments, *, actor_id, now, title) -> None:
    """The same rows as _bulk_rows, each formatted once as a line of COPY text and streamed.

    No dict or model instance per row: a line is one f-string of values that are already
    text or need one conversion, which keeps Python's share of a batch well below the
    database's (the lines are made while PostgreSQL inserts the ones before).
    """
    task_ids = pg_copy.reserve_ids(Task, len(rows))
    suggestion_ids = pg_copy.reserve_ids(Suggestion, len(rows))
    esc, null = pg_copy.escape, pg_copy.NULL
    at = now.isoformat()
    actor = null if actor_id is None else str(actor_id)
    registered, assigned = State.REGISTERED.value, State.ASSIGNED.value

    def tasks():
        for row, task_id, assignment in zip(rows, task_ids, assignments):
            head = f"{task_id}\t{esc(title(row.content))}"
            tail = f"{row.channel}\t{row.category}\t{row.urgency}\t{row.township_id}\t{at}"
            if assignment is None:
                yield f"{head}\t{registered}\t{tail}\t{null}\t{null}\t{null}\t{null}\t{null}"
            else:
                accept, handle, rule, _custom, _limits = assignment
                yield (f"{head}\t{assigned}\t{tail}\t{row.department_id}\t{at}\t{accept.isoformat()}"
                       f"\t{handle.isoformat()}\t{null if rule is None else rule.pk}")

    def suggestions():
        for row, suggestion_id, task_id, tracking in zip(rows, suggestion_ids, task_ids, numbers):
            content = esc(row.content)
            bigrams = content_bigrams(row.content)
            if content is not row.content:  # the bigrams hold only the content's characters
                bigrams = esc(bigrams)
            yield (f"{suggestion_id}\t{tracking}\t{row.channel}\t{esc(row.external_id)}\t{row.received_at.isoformat()}"
                   f"\t{at}\t{actor}\t{esc(row.citizen_name)}\t{row.phone}\t{row.township_id}"
                   f"\t{null if row.village_id is None else row.village_id}\t{content}\t{row.category}"
                   f"\t{row.urgency}\t{row.fingerprint}\t{task_id}\t{bigrams}")

    def events():
        register = f"\t{Action.REGISTER.value}\t{actor}\t{at}\t\t{registered}\t"
        assign = f"\t{Action.ASSIGN.value}\t{actor}\t{at}\t{registered}\t{assigned}\t"
        for row, task_id, suggestion_id, tracking, assignment in zip(
            rows, task_ids, suggestion_ids, numbers, assignments
        ):
            # The same jsonb as the bulk path's dict (jsonb does not keep key order); a
            # tracking number is letters and digits, so it needs no JSON or COPY escaping.
            yield (f'{task_id}{register}{{"source": "import", "suggestion": {suggestion_id}, '
                   f'"tracking_number": "{tracking}"}}')
            if assignment is not None:
                yield f"{task_id}{assign}{pg_copy.text(_assign_data(row, assignment))}"

    pg_copy.copy_lines(Task, _TASK_COLUMNS, tasks())
    pg_copy.copy_lines(Suggestion, _SUGGESTION_COLUMNS, suggestions())
    pg_copy.copy_lines(TaskEvent, _EVENT_COLUMNS, events())
