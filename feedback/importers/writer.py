"""Writing validated rows in bulk: tasks, suggestions and their timeline entries, as the services would.

bulk_create skips Model.save(), so the tracking number and content fingerprint that
Suggestion.save() sets are set here; the task and events carry exactly the fields of
feedback.services.suggestion_register (and tasks.services.task_assign for a row with a
department), so an imported suggestion cannot be told from one typed in.
"""

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from feedback.models import Suggestion, new_tracking_number
from tasks import calendar, deadlines
from tasks.models import Action, State, Task, TaskEvent

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
    if by_channel:
        # Served by the unique (channel, external_id) index.
        numbered = Q()
        for channel, numbers in by_channel.items():
            numbered |= Q(channel=channel, external_id__in=numbers)
        for channel, number, tracking in Suggestion.objects.filter(numbered).values_list(
            "channel", "external_id", "tracking_number"
        ):
            found[("number", channel, number)] = tracking
    if fingerprints:
        # Served by suggestion_fingerprint_idx; the township and date are compared here.
        for fingerprint, township_id, received_at, tracking in Suggestion.objects.filter(
            content_fingerprint__in=fingerprints
        ).values_list("content_fingerprint", "township_id", "received_at", "tracking_number"):
            found.setdefault(("content", fingerprint, township_id, timezone.localdate(received_at)), tracking)
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


def write_rows(rows: list[Row], *, user, now: dt.datetime, title) -> None:
    """Create one task, suggestion and timeline per row (call inside transaction.atomic())."""
    if not rows:
        return
    plan = Deadlines(now)
    tasks, details = [], []
    for row in rows:
        task = Task(
            title=title(row.content), state=State.REGISTERED, channel=row.channel, category=row.category,
            urgency=row.urgency, township_id=row.township_id, created_at=now,
        )
        detail = None
        if row.department_id:
            accept, handle, rule, custom = plan.for_row(row)
            task.state, task.lead_department_id, task.assigned_at = State.ASSIGNED, row.department_id, now
            task.accept_deadline, task.deadline, task.deadline_rule = accept, handle, rule
            detail = {
                "lead_department": row.department_id,
                "assisting_departments": [],
                "deadline": handle.isoformat(),
                "accept_deadline": accept.isoformat(),
                "assist_deadline": None,
                "deadline_rule": rule.pk if rule else None,
                "custom_deadline": custom,
                "source": "import",
            }
        tasks.append(task)
        details.append(detail)
    # PostgreSQL and SQLite (3.35+) return the new ids, which the suggestions need.
    Task.objects.bulk_create(tasks)

    used: set[str] = set()
    suggestions = []
    for row, task in zip(rows, tasks):
        tracking = new_tracking_number(row.received_at)
        while tracking in used:
            tracking = new_tracking_number(row.received_at)
        used.add(tracking)
        suggestions.append(Suggestion(
            tracking_number=tracking, channel=row.channel, external_id=row.external_id,
            received_at=row.received_at, registered_at=now, registered_by=user, citizen_name=row.citizen_name,
            phone=row.phone, township_id=row.township_id, village_id=row.village_id, content=row.content,
            category=row.category, urgency=row.urgency, content_fingerprint=row.fingerprint, task=task,
        ))
    Suggestion.objects.bulk_create(suggestions)

    events = []
    for task, suggestion, detail in zip(tasks, suggestions, details):
        events.append(TaskEvent(
            task=task, action=Action.REGISTER, actor=user, at=now, from_state="", to_state=State.REGISTERED,
            data={"suggestion": suggestion.pk, "tracking_number": suggestion.tracking_number, "source": "import"},
        ))
        if detail is not None:
            events.append(TaskEvent(
                task=task, action=Action.ASSIGN, actor=user, at=now, from_state=State.REGISTERED,
                to_state=State.ASSIGNED, data=detail,
            ))
    TaskEvent.objects.bulk_create(events)
