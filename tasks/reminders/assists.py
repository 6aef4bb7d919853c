"""Reminders of assisting parts (协办): 临期, 到期 and 超期 for each part's own sub-deadline.

A part still owing its reply (neither replied nor waived) on a task that is on the lead's
clock gets the due-soon, due-today and overdue levels of its sub-deadline, on the same
working-day windows as the task reminders (levels.level_windows). They go to the assisting
department only: of each level's audiences in the admin's policy, its handlers and its head
(the supervision office and leaders follow the lead's own reminders). There is no escalated
level for a part; "overdue" lasts until the part is replied or waived, so a part overdue
before this run was first made still gets it once.

Exactly once, as for the task reminders: a run inserts AssistReminderClaim rows under the
unique constraint (part, level, sub-deadline) with ON CONFLICT DO NOTHING and delivers only
the rows it inserted, in the same transaction as their notifications (Notification.assist
set); claims of a run that died are taken over by one conditional UPDATE. A moved
sub-deadline (the lead's extension) is a new key, so the levels start again for it. The
run shares the task run's limit, recipients and e-mail digests: one e-mail per person per run.
"""

import dataclasses
import datetime as dt
import logging

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef

from ..models import HANDLING_STATES, TaskAssist
from ..models.reminders import AssistReminderClaim, Audience, ClaimStatus, Notification, ReminderLevel
from .levels import Window

log = logging.getLogger(__name__)

ASSIST_LEVELS = (ReminderLevel.OVERDUE, ReminderLevel.DUE_TODAY, ReminderLevel.DUE_SOON)
DEPARTMENT_AUDIENCES = frozenset({Audience.HANDLERS, Audience.HEAD})


@dataclasses.dataclass(frozen=True)
class AssistClaim:
    id: int
    assist_id: int
    task_id: int
    level: str
    deadline: dt.datetime
    department_id: int


def assist_windows(windows: list[Window]) -> list[Window]:
    """The task run's windows of the levels parts get; overdue without the escalation's lower bound."""
    result = []
    for window in windows:
        if window.level == ReminderLevel.OVERDUE:
            result.append(dataclasses.replace(window, start=None, start_at=None))
        elif window.level in ASSIST_LEVELS:
            result.append(window)
    return result


def assist_level_in(windows: list[Window], deadline: dt.datetime) -> str | None:
    """The level a part with this sub-deadline is at under these (assist) windows, or None."""
    return next((w.level for w in windows if w.holds(deadline)), None)


def _open_parts():
    return TaskAssist.objects.filter(
        replied_at__isnull=True, waived_at__isnull=True, deadline__isnull=False, task__state__in=HANDLING_STATES
    )


def candidates(window: Window, *, after_id: int, size: int) -> list[tuple]:
    """(part, sub-deadline, task, department) of open parts at this level today without a claim, by id."""
    rows = _open_parts().filter(pk__gt=after_id, deadline__lt=window.upper())
    if window.lower() is not None:
        rows = rows.filter(deadline__gte=window.lower())
    claimed = AssistReminderClaim.objects.filter(
        assist=OuterRef("pk"), level=window.level, deadline=OuterRef("deadline")
    )
    rows = rows.filter(~Exists(claimed)).order_by("pk")
    return list(rows.values_list("pk", "deadline", "task_id", "department_id")[:size])


def insert_claims(rows: list[tuple], *, level: str, token: str, now: dt.datetime) -> dict[int, int]:
    """Insert claims for (part, sub-deadline, ...) rows; returns {part id: claim id} for the rows this run won."""
    if not rows:
        return {}
    if connection.vendor in ("postgresql", "sqlite") and connection.features.can_return_rows_from_bulk_insert:
        return _insert_on_conflict(rows, level=level, token=token, now=now)
    won = {}
    for assist_id, deadline, *_ in rows:
        try:
            with transaction.atomic():
                claim = AssistReminderClaim.objects.create(
                    assist_id=assist_id, level=level, deadline=deadline, token=token, claimed_at=now
                )
        except IntegrityError:
            continue
        won[assist_id] = claim.pk
    return won


def _insert_on_conflict(rows, *, level, token, now) -> dict[int, int]:
    # As tasks.reminders.claims: ON CONFLICT DO NOTHING skips rows another run inserted
    # (waiting for it if it has not committed yet); RETURNING names the rows we won.
    table = connection.ops.quote_name(AssistReminderClaim._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    won = {}
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        params = []
        for assist_id, deadline, *_ in part:
            params += [assist_id, level, adapt(deadline), ClaimStatus.CLAIMED, token, adapt(now)]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, 1)"] * len(part))
        sql = (
            f"INSERT INTO {table} (assist_id, level, deadline, status, token, claimed_at, attempts) "
            f"VALUES {values} ON CONFLICT (assist_id, level, deadline) DO NOTHING RETURNING assist_id, id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            won.update(cursor.fetchall())
    return won


class AssistReminders:
    """The assisting parts' share of one reminder run (`run` is tasks.reminders.run._Run)."""

    def __init__(self, run):
        self.run = run
        self.windows = assist_windows(run.windows)

    def execute(self) -> None:
        if not self.windows:
            return
        self.retake_stale_claims()
        for window in self.windows:
            self.claim_and_deliver(window)

    def retake_stale_claims(self) -> None:
        from .run import CLAIM_STALE_AFTER, MAX_CLAIM_ATTEMPTS

        run = self.run
        cutoff = run.now - CLAIM_STALE_AFTER
        stale = AssistReminderClaim.objects.filter(status=ClaimStatus.CLAIMED, claimed_at__lt=cutoff)
        given_up = stale.filter(attempts__gte=MAX_CLAIM_ATTEMPTS).update(status=ClaimStatus.FAILED)
        if given_up:
            log.error("Gave up %s assist reminder claims whose delivery failed %s times", given_up, MAX_CLAIM_ATTEMPTS)
        oldest = list(stale.order_by("claimed_at").values_list("pk", flat=True)[: run.room()])
        # Conditional on still being stale: of two runs, only the first to update wins a row.
        run.taken += AssistReminderClaim.objects.filter(
            pk__in=oldest, status=ClaimStatus.CLAIMED, claimed_at__lt=cutoff
        ).update(token=run.token, claimed_at=run.now, attempts=F("attempts") + 1)
        mine = AssistReminderClaim.objects.filter(token=run.token, status=ClaimStatus.CLAIMED).select_related(
            "assist", "assist__task"
        )
        claims, cancelled = [], []
        for claim in mine:
            assist = claim.assist
            due = (
                assist.is_open
                and assist.task.state in HANDLING_STATES
                and assist.deadline == claim.deadline
                and assist_level_in(self.windows, claim.deadline) == claim.level
            )
            if due:
                claims.append(
                    AssistClaim(claim.pk, assist.pk, assist.task_id, claim.level, claim.deadline, assist.department_id)
                )
            else:
                cancelled.append(claim.pk)
        run.summary.retaken += len(claims) + len(cancelled)
        if cancelled:
            run.summary.cancelled += AssistReminderClaim.objects.filter(
                pk__in=cancelled, token=run.token, status=ClaimStatus.CLAIMED
            ).update(status=ClaimStatus.CANCELLED)
        for start in range(0, len(claims), run.batch_size):
            self.deliver(claims[start : start + run.batch_size])

    def claim_and_deliver(self, window: Window) -> None:
        run = self.run
        after_id = 0
        while run.room():
            rows = candidates(window, after_id=after_id, size=min(run.batch_size, run.room()))
            if not rows:
                return
            after_id = rows[-1][0]
            won = insert_claims(rows, level=window.level, token=run.token, now=run.now)
            run.taken += len(won)
            if won:
                self.deliver(
                    [
                        AssistClaim(won[assist_id], assist_id, task_id, window.level, deadline, department_id)
                        for assist_id, deadline, task_id, department_id in rows
                        if assist_id in won
                    ]
                )

    def recipients(self, claim: AssistClaim) -> dict[int, str]:
        audiences = self.run.rules[claim.level].audiences & DEPARTMENT_AUDIENCES
        department = self.run.recipients.by_department.get(claim.department_id, {})
        people = {}
        for audience in audiences:
            people.update(department.get(audience, []))
        return people

    def deliver(self, claims: list[AssistClaim]) -> None:
        """Mark the claims delivered and write their notifications and digests, all or nothing."""
        run = self.run
        run.recipients.load({claim.department_id for claim in claims})
        with transaction.atomic():
            ids = [claim.id for claim in claims]
            done = AssistReminderClaim.objects.filter(pk__in=ids, token=run.token, status=ClaimStatus.CLAIMED).update(
                status=ClaimStatus.DELIVERED, delivered_at=run.now
            )
            if done != len(ids):
                # Another run took some over (we were slower than CLAIM_STALE_AFTER): keep ours only.
                ours = set(
                    AssistReminderClaim.objects.filter(
                        pk__in=ids, token=run.token, status=ClaimStatus.DELIVERED
                    ).values_list("pk", flat=True)
                )
                claims = [claim for claim in claims if claim.id in ours]
            rows = [(claim, pk, email) for claim in claims for pk, email in self.recipients(claim).items()]
            run.create_digests({pk: email for _, pk, email in rows})
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient_id=pk, task_id=claim.task_id, assist_id=claim.assist_id, level=claim.level,
                        deadline=claim.deadline, created_at=run.now, digest_id=run.digest_for.get(pk),
                    )
                    for claim, pk, _ in rows
                ],
                batch_size=1_000,
            )
        run.summary.assist_parts += len(claims)
        run.summary.notifications += len(rows)


__all__ = ["ASSIST_LEVELS", "AssistReminders", "assist_level_in", "assist_windows", "candidates", "insert_claims"]
