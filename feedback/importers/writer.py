"""Writing validated rows in bulk: tasks, suggestions and their timeline entries, as the services would.

bulk_create skips Model.save(), so the tracking number and content fingerprint that
Suggestion.save() sets are set here; the task and events carry exactly the fields of
feedback.services.suggestion_register (and tasks.services.task_assign for a row with a
department), so an imported suggestion cannot be told from one typed in.
"""

import datetime as dt
import os

from django.db import connection
from django.utils import timezone

from feedback.models import Suggestion
from feedback.models.suggestion import tracking_number
from tasks import calendar, deadlines
from tasks.models import Action, State, Task, TaskEvent

from . import pg_copy
from .validate import Row

# Any constant: imports (web jobs, the command) take it per batch, so two imports of
# the same file check for duplicates one after the other, never both before either writes.
_IMPORT_LOCK = 0x5D1A_0005


def lock_imports() -> None:
    """Serialise import batches (call inside transaction.atomic()).

    Rows without an external number have no unique constraint to fall back on; only
    this lock stops two concurrent imports from both storing them. SQLite needs none:
    the project opens its transactions IMMEDIATE, which already takes the write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])


def refresh_statistics() -> None:
    """ANALYZE the suggestions table on PostgreSQL (outside the batch transactions).

    A big import into a small table leaves the planner's row counts far behind: with
    them it reads the whole table for every batch's duplicate check instead of using
    the fingerprint and number indexes, and the import slows down as it grows.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Suggestion._meta.db_table)}")


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
        stored = Suggestion.objects.filter(channel=channel, external_id__in=numbers).exclude(external_id="")
        for number, tracking in stored.order_by().values_list("external_id", "tracking_number"):
            found[("number", channel, number)] = tracking
    if fingerprints:
        # Served by suggestion_fingerprint_idx; the township and date are compared here.
        for fingerprint, township_id, received_at, tracking in Suggestion.objects.filter(
            content_fingerprint__in=fingerprints
        ).order_by().values_list("content_fingerprint", "township_id", "received_at", "tracking_number"):
            day = timezone.localdate(received_at, timezone.get_default_timezone())
            found.setdefault(("content", fingerprint, township_id, day), tracking)
    return found


class Deadlines:
    """The rule table's deadlines for one batch: same start, so one lookup per category/urgency/channel."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self._stages: dict = {}
        self._days: dict = {}

    def for_row(self, row: Row):
        """(acceptance deadline, handling deadline, rule or None) as task_assign sets them."""
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
        return min(stages.accept, handle), handle, (None if custom else stages.rule), custom is not None


def tracking_numbers(rows: list[Row]) -> list[str]:
    """new_tracking_number()'s format (DZ + received date + 8 random characters), for a whole batch.

    One urandom call per batch instead of eight secrets.choice calls per row, which cost
    more than the insert itself; 32 letters divide 256, so every letter stays equally likely.
    """
    noise = os.urandom(8 * len(rows))
    numbers, used = [], set()
    for i, row in enumerate(rows):
        number = tracking_number(row.received_at, noise[8 * i: 8 * i + 8])
        while number in used:  # within the batch; a clash with a stored one fails the insert and is retried
            number = tracking_number(row.received_at, os.urandom(8))
        used.add(number)
        numbers.append(number)
    return numbers


def write_rows(rows: list[Row], *, user, now: dt.datetime, title, method: str = "") -> None:
    """Create one task, suggestion and timeline per row (call inside transaction.atomic()).

    method "copy" (PostgreSQL's COPY, the default there) or "bulk" (bulk_create, the
    default elsewhere) write the same values: both take them from the plan built here.
    """
    if not rows:
        return
    actor_id = user.pk if user is not None else None
    plan = Deadlines(now)
    tasks, suggestions, events = [], [], []
    for row, tracking in zip(rows, tracking_numbers(rows)):
        task = {
            "title": title(row.content), "state": State.REGISTERED, "channel": row.channel,
            "category": row.category, "urgency": row.urgency, "township_id": row.township_id, "created_at": now,
        }
        register = {
            "action": Action.REGISTER, "actor_id": actor_id, "at": now, "from_state": "",
            "to_state": State.REGISTERED, "data": {"tracking_number": tracking, "source": "import"},
        }
        task_events = [register]
        if row.department_id:
            accept, handle, rule, custom = plan.for_row(row)
            task.update(state=State.ASSIGNED, lead_department_id=row.department_id, assigned_at=now,
                        accept_deadline=accept, deadline=handle, deadline_rule_id=rule.pk if rule else None)
            task_events.append({
                "action": Action.ASSIGN, "actor_id": actor_id, "at": now, "from_state": State.REGISTERED,
                "to_state": State.ASSIGNED,
                "data": {
                    "lead_department": row.department_id,
                    "assisting_departments": [],
                    "deadline": handle.isoformat(),
                    "accept_deadline": accept.isoformat(),
                    "assist_deadline": None,
                    "deadline_rule": rule.pk if rule else None,
                    "custom_deadline": custom,
                    "source": "import",
                },
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

    method = method or ("copy" if pg_copy.available() else "bulk")
    if method == "copy":
        task_ids = pg_copy.reserve_ids(Task, len(tasks))
        suggestion_ids = pg_copy.reserve_ids(Suggestion, len(suggestions))
    else:
        # PostgreSQL and SQLite (3.35+) return the new ids, which the suggestions need.
        task_ids = [t.pk for t in Task.objects.bulk_create(Task(**t) for t in tasks)]
    for task, task_id in zip(tasks, task_ids):
        task["id"] = task_id
    for suggestion, task_id in zip(suggestions, task_ids):
        suggestion["task_id"] = task_id
    if method == "copy":
        for suggestion, suggestion_id in zip(suggestions, suggestion_ids):
            suggestion["id"] = suggestion_id
        pg_copy.copy_rows(Task, tasks)
        pg_copy.copy_rows(Suggestion, suggestions)
    else:
        created = Suggestion.objects.bulk_create(Suggestion(**s) for s in suggestions)
        for suggestion, obj in zip(suggestions, created):
            suggestion["id"] = obj.pk

    timeline = []
    for task_id, suggestion, task_events in zip(task_ids, suggestions, events):
        task_events[0]["data"]["suggestion"] = suggestion["id"]
        for event in task_events:
            event["task_id"] = task_id
            timeline.append(event)
    if method == "copy":
        pg_copy.copy_rows(TaskEvent, timeline)
    else:
        TaskEvent.objects.bulk_create(TaskEvent(**e) for e in timeline)
