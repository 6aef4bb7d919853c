"""Claims: the INSERT under (task, level, deadline) that decides which run sends a reminder."""

import dataclasses
import datetime as dt
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef

from ..models import HANDLING_STATES, Task
from ..models.reminders import ClaimStatus, Notification, ReminderClaim
from .levels import Window, registration_day_end


@dataclasses.dataclass(frozen=True)
class Claim:
    id: int
    task_id: int
    level: str
    deadline: dt.datetime
    department_id: int | None


def candidates(window: Window, *, after_id: int, size: int) -> list[tuple]:
    """(task, deadline, department) of tasks at this level today without a claim for it, by id from `after_id`."""
    field = window.field
    rows = Task.objects.filter(state__in=window.states, pk__gt=after_id, **{f"{field}__lt": window.upper()})
    if window.lower() is not None:
        rows = rows.filter(**{f"{field}__gte": window.lower()})
    claimed = ReminderClaim.objects.filter(task=OuterRef("pk"), level=window.level)
    if field == "deadline":
        claimed = claimed.filter(deadline=OuterRef("deadline"))
    # else: a task is registered once, so each same-day level is claimed once per task.
    found = list(rows.filter(~Exists(claimed)).order_by("pk").values_list("pk", field, "lead_department_id")[:size])
    if field == "deadline":
        return found
    return [(pk, registration_day_end(created_at), department_id) for pk, created_at, department_id in found]


def insert_claims(rows: list[tuple], *, level: str, token: str, now: dt.datetime) -> dict[int, int]:
    """Insert claims for (task, deadline) rows; returns {task id: claim id} for the rows this run won."""
    if not rows:
        return {}
    if connection.vendor in ("postgresql", "sqlite") and connection.features.can_return_rows_from_bulk_insert:
        return _insert_on_conflict(rows, level=level, token=token, now=now)
    return _insert_one_by_one(rows, level=level, token=token, now=now)


def _insert_on_conflict(rows, *, level, token, now) -> dict[int, int]:
    # One statement per chunk: ON CONFLICT DO NOTHING skips rows another run inserted
    # (waiting for it if it has not committed yet), RETURNING names the rows we won.
    table = connection.ops.quote_name(ReminderClaim._meta.db_table)
    ops = connection.ops
    won = {}
    claimed_at = ops.adapt_datetimefield_value(now)
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, 1)"] * len(part))
        params = []
        for task_id, deadline, *_ in part:
            params += [task_id, level, ops.adapt_datetimefield_value(deadline), ClaimStatus.CLAIMED, token, claimed_at]
        sql = (
            f"INSERT INTO {table} (task_id, level, deadline, status, token, claimed_at, attempts) "
            f"VALUES {values} ON CONFLICT (task_id, level, deadline) DO NOTHING RETURNING task_id, id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            won.update(cursor.fetchall())
    return won


def _insert_one_by_one(rows, *, level, token, now) -> dict[int, int]:
    # For databases without INSERT ... ON CONFLICT ... RETURNING: the savepoint keeps a
    # lost race (IntegrityError) from breaking an enclosing transaction.
    won = {}
    for task_id, deadline, *_ in rows:
        try:
            with transaction.atomic():
                claim = ReminderClaim.objects.create(
                    task_id=task_id, level=level, deadline=deadline, token=token, claimed_at=now
                )
        except IntegrityError:
            continue
        won[task_id] = claim.pk
    return won


def insert_notifications(rows: list[tuple], *, now: dt.datetime):
    """Insert (recipient, task, level, deadline, digest) rows."""
    if connection.vendor not in ("postgresql", "sqlite"):
        Notification.objects.bulk_create(
            [
                Notification(recipient_id=r, task_id=t, level=lv, deadline=d, created_at=now, digest_id=g)
                for r, t, lv, d, g in rows
            ],
            batch_size=1_000,
        )
        return
    # Raw SQL because at 100,000 reminders (300,000 notifications) building model
    # instances and compiling bulk_create cost more than the database's own work.
    table = connection.ops.quote_name(Notification._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    created_at = adapt(now)
    for start in range(0, len(rows), 1_000):
        part = rows[start : start + 1_000]
        params = []
        for recipient_id, task_id, level, deadline, digest_id in part:
            params += [recipient_id, task_id, level, adapt(deadline), created_at, digest_id]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(part))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (recipient_id, task_id, level, deadline, created_at, digest_id) VALUES {values}",
                params,
            )


def reminder_claims_take(*, now: dt.datetime, level: str, task_ids: list[int]) -> dict[int, int]:
    """Claim `level` for these tasks without delivering (what a run killed mid-way leaves behind)."""
    rows = list(
        Task.objects.filter(pk__in=task_ids, state__in=HANDLING_STATES, deadline__isnull=False).values_list(
            "pk", "deadline"
        )
    )
    return insert_claims(rows, level=level, token=uuid.uuid4().hex, now=now)
