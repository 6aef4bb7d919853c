"""Deadline reminders (临期, 到期, 超期, 督办): each level once per task and deadline.

How a run works (`reminders_send_due`, called by the beat job and `send_reminders`):

1. From today's date and the working-day calendar, compute for each level the range of
   deadline dates that are at that level today (`level_windows`). Levels are date-based,
   so any number of runs on one day agree, and a run that was missed is made up by the
   next one (which sends the level in force then, not the stale one).
2. Claims that an earlier run took but never delivered (a worker killed mid-run) are
   taken over by one conditional UPDATE that only one run can win.
3. New claims: an INSERT under the unique constraint (task, level, deadline); only the
   rows this run inserted are delivered by it (never check-then-send).
4. Delivery, in one transaction per batch: the claims become delivered, the in-app
   notifications are written, and each recipient gets one e-mail digest row for the run.
5. After the batches, the e-mails are sent (tasks.notifications); a failure is recorded
   on the digest and retried with backoff, without touching the notifications.

Days off: a run on a day that is not a working day sends nothing; the next working day's
run sends whatever level is in force then. A deadline a supervisor set on a day off is
"due today" on the last working day before it and "overdue" on the first working day
after it.
"""

import dataclasses
import datetime as dt
import logging
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User

from . import calendar, notifications
from .errors import DomainError
from .models import HANDLING_STATES, Task
from .models.reminders import Audience, ClaimStatus, Notification, ReminderClaim, ReminderDigest, ReminderLevel
from .models.reminders import ReminderRule

log = logging.getLogger(__name__)

# Most important first: when a run hits its limit, the next run sends the rest.
LEVEL_ORDER = (ReminderLevel.ESCALATED, ReminderLevel.OVERDUE, ReminderLevel.DUE_TODAY, ReminderLevel.DUE_SOON)
DEFAULT_LIMIT = 200_000
BATCH_SIZE = 2_000
# A claim not delivered after this long belongs to a run that died. Each batch is
# claimed and delivered within seconds, so this only needs to exceed one batch's time.
CLAIM_STALE_AFTER = dt.timedelta(minutes=5)
# A claim taken over this many times crashes its deliverer every time: give it up.
MAX_CLAIM_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True)
class LevelRule:
    level: str
    days: int
    audiences: frozenset
    is_active: bool = True


DEFAULT_RULES = {
    ReminderLevel.DUE_SOON: LevelRule(ReminderLevel.DUE_SOON, 1, frozenset({Audience.HANDLERS})),
    ReminderLevel.DUE_TODAY: LevelRule(ReminderLevel.DUE_TODAY, 0, frozenset({Audience.HANDLERS, Audience.HEAD})),
    ReminderLevel.OVERDUE: LevelRule(ReminderLevel.OVERDUE, 1, frozenset({Audience.HEAD, Audience.SUPERVISORS})),
    ReminderLevel.ESCALATED: LevelRule(
        ReminderLevel.ESCALATED, 3, frozenset({Audience.SUPERVISORS, Audience.LEADERS})
    ),
}


def reminder_rules() -> dict[str, LevelRule]:
    """The policy in force: the admin's ReminderRule rows over DOMAIN.md's defaults."""
    rules = dict(DEFAULT_RULES)
    for row in ReminderRule.objects.all():
        row.full_clean()  # a bad row saved around the admin's validation must not corrupt the windows
        days = row.days if row.level in (ReminderLevel.DUE_SOON, ReminderLevel.ESCALATED) else DEFAULT_RULES[row.level].days
        rules[row.level] = LevelRule(row.level, days, row.audiences, row.is_active)
    return rules


@dataclasses.dataclass(frozen=True)
class Window:
    """Deadline dates in [start, end) are at `level` today; start None means unbounded."""

    level: str
    start: dt.date | None
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and day < self.end


def level_windows(*, today: dt.date, rules: dict[str, LevelRule]) -> list[Window]:
    """For each active level, the deadline dates that are at that level on `today` (a working day)."""
    if not calendar.is_working_day(today):
        return []
    soon = rules[ReminderLevel.DUE_SOON].days
    escalate = rules[ReminderLevel.ESCALATED].days
    next_1 = calendar.add_working_days(today, 1)
    # Due today: the deadline is today, or on the days off that follow it (its last
    # working day is today). Due soon: its last working day is 1..soon working days ahead.
    # Overdue from the first working day after the deadline; escalated once `escalate`
    # working days after the deadline have begun, i.e. the deadline is before `cut`.
    cut = calendar.add_working_days(today, -(escalate - 1))
    windows = {
        ReminderLevel.DUE_SOON: Window(ReminderLevel.DUE_SOON, next_1, calendar.add_working_days(today, soon + 1)),
        ReminderLevel.DUE_TODAY: Window(ReminderLevel.DUE_TODAY, today, next_1),
        ReminderLevel.OVERDUE: Window(ReminderLevel.OVERDUE, cut, today),
        ReminderLevel.ESCALATED: Window(ReminderLevel.ESCALATED, None, cut),
    }
    return [windows[level] for level in LEVEL_ORDER if rules[level].is_active]


def level_on(*, deadline: dt.datetime, today: dt.date, rules: dict[str, LevelRule] | None = None) -> str | None:
    """The reminder level a task with this deadline is at on `today`, or None."""
    return _level_in(level_windows(today=today, rules=rules or reminder_rules()), deadline)


def _level_in(windows: list[Window], deadline: dt.datetime) -> str | None:
    day = timezone.localdate(deadline)
    return next((window.level for window in windows if window.contains(day)), None)


@dataclasses.dataclass
class ReminderRun:
    """What one run did; `line()` is what the command prints."""

    now: dt.datetime
    working_day: bool = True
    sent: dict = dataclasses.field(default_factory=lambda: {level.value: 0 for level in ReminderLevel})
    notifications: int = 0
    digests: int = 0
    emails: int = 0
    email_failures: int = 0
    retaken: int = 0
    cancelled: int = 0
    more: bool = False
    failed_digest_ids: list = dataclasses.field(default_factory=list)

    def line(self) -> str:
        counts = " ".join(f"{level.value}={self.sent[level.value]}" for level in ReminderLevel)
        return (
            f"{counts} notifications={self.notifications} emails={self.emails} "
            f"email_failures={self.email_failures}" + (" more=1" if self.more else "")
        )

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["now"] = self.now.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class _Claim:
    id: int
    task_id: int
    level: str
    deadline: dt.datetime
    department_id: int | None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _candidates(window: Window, *, after_id: int, size: int) -> list[tuple]:
    """Open tasks at this level today that have no claim for it yet, by id from `after_id`."""
    claimed = ReminderClaim.objects.filter(task=OuterRef("pk"), level=window.level, deadline=OuterRef("deadline"))
    rows = Task.objects.filter(state__in=HANDLING_STATES, deadline__lt=_start_of(window.end), pk__gt=after_id)
    if window.start is not None:
        rows = rows.filter(deadline__gte=_start_of(window.start))
    rows = rows.filter(~Exists(claimed)).order_by("pk")
    return list(rows.values_list("pk", "deadline", "lead_department_id")[:size])


def _insert_claims(rows: list[tuple], *, level: str, token: str, now: dt.datetime) -> dict[int, int]:
    """Insert claims for (task, deadline) rows; returns {task id: claim id} for the rows this run won."""
    if not rows:
        return {}
    if connection.vendor in ("postgresql", "sqlite") and connection.features.can_return_rows_from_bulk_insert:
        return _insert_claims_on_conflict(rows, level=level, token=token, now=now)
    return _insert_claims_one_by_one(rows, level=level, token=token, now=now)


def _insert_claims_on_conflict(rows, *, level, token, now) -> dict[int, int]:
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


def _insert_claims_one_by_one(rows, *, level, token, now) -> dict[int, int]:
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


def _insert_notifications(rows: list[tuple], *, now: dt.datetime):
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


class _Recipients:
    """Who receives which level: department members loaded once per department per run."""

    def __init__(self, rules: dict[str, LevelRule]):
        self.rules = rules
        self.by_department: dict[int, dict[str, list[tuple[int, str]]]] = {}
        wide = User.objects.filter(is_active=True, role__in=[User.Role.SUPERVISOR, User.Role.LEADER])
        self.wide = {Audience.SUPERVISORS: [], Audience.LEADERS: []}
        for pk, role, email in wide.values_list("pk", "role", "email"):
            key = Audience.SUPERVISORS if role == User.Role.SUPERVISOR else Audience.LEADERS
            self.wide[key].append((pk, email))

    def load(self, department_ids):
        missing = {pk for pk in department_ids if pk is not None and pk not in self.by_department}
        if not missing:
            return
        for pk in missing:
            self.by_department[pk] = {Audience.HANDLERS: [], Audience.HEAD: []}
        members = User.objects.filter(
            is_active=True, role__in=[User.Role.HANDLER, User.Role.HEAD], department_id__in=missing
        )
        for pk, role, department_id, email in members.values_list("pk", "role", "department_id", "email"):
            key = Audience.HANDLERS if role == User.Role.HANDLER else Audience.HEAD
            self.by_department[department_id][key].append((pk, email))

    def for_claim(self, claim: _Claim) -> dict[int, str]:
        people = {}
        department = self.by_department.get(claim.department_id, {})
        for audience in self.rules[claim.level].audiences:
            group = self.wide.get(audience) if audience in self.wide else department.get(audience, [])
            people.update(group or [])
        return people


class _Run:
    """One call of reminders_send_due: its token, limit, recipients and digests."""

    def __init__(self, *, now, limit, batch_size):
        self.now = now
        self.today = timezone.localdate(now)
        self.limit = limit
        self.batch_size = batch_size
        self.token = uuid.uuid4().hex
        self.summary = ReminderRun(now=now)
        self.rules = reminder_rules()
        self.windows = level_windows(today=self.today, rules=self.rules)
        self.recipients = None
        self.digest_for: dict[int, int] = {}
        self.taken = 0

    def room(self) -> int:
        return max(0, self.limit - self.taken)

    def execute(self) -> ReminderRun:
        if not self.windows:
            self.summary.working_day = calendar.is_working_day(self.today)
            return self.summary
        self.recipients = _Recipients(self.rules)
        self.retake_stale_claims()
        for window in self.windows:
            self.claim_and_deliver(window)
        if self.room() == 0:
            self.summary.more = True
        self.send_digests()
        return self.summary

    def retake_stale_claims(self):
        cutoff = self.now - CLAIM_STALE_AFTER
        stale = ReminderClaim.objects.filter(status=ClaimStatus.CLAIMED, claimed_at__lt=cutoff)
        given_up = stale.filter(attempts__gte=MAX_CLAIM_ATTEMPTS).update(status=ClaimStatus.FAILED)
        if given_up:
            log.error("Gave up %s reminder claims whose delivery failed %s times", given_up, MAX_CLAIM_ATTEMPTS)
        oldest = stale.order_by("claimed_at").values("pk")[: self.limit]
        # Conditional on still being stale: of two runs, only the first to update wins a row.
        self.taken += ReminderClaim.objects.filter(
            pk__in=list(oldest.values_list("pk", flat=True)), status=ClaimStatus.CLAIMED, claimed_at__lt=cutoff
        ).update(token=self.token, claimed_at=self.now, attempts=F("attempts") + 1)
        mine = ReminderClaim.objects.filter(token=self.token, status=ClaimStatus.CLAIMED).select_related("task")
        claims, cancelled = [], []
        for claim in mine.only("pk", "level", "deadline", "task__state", "task__deadline", "task__lead_department_id"):
            task = claim.task
            still_due = (
                task.state in HANDLING_STATES
                and task.deadline == claim.deadline
                and _level_in(self.windows, claim.deadline) == claim.level
            )
            if still_due:
                claims.append(_Claim(claim.pk, claim.task_id, claim.level, claim.deadline, task.lead_department_id))
            else:
                cancelled.append(claim.pk)
        self.summary.retaken = len(claims) + len(cancelled)
        if cancelled:
            self.summary.cancelled += ReminderClaim.objects.filter(
                pk__in=cancelled, token=self.token, status=ClaimStatus.CLAIMED
            ).update(status=ClaimStatus.CANCELLED)
        for start in range(0, len(claims), self.batch_size):
            self.deliver(claims[start : start + self.batch_size])

    def claim_and_deliver(self, window: Window):
        after_id = 0
        while self.room():
            rows = _candidates(window, after_id=after_id, size=min(self.batch_size, self.room()))
            if not rows:
                return
            after_id = rows[-1][0]
            won = _insert_claims(rows, level=window.level, token=self.token, now=self.now)
            self.taken += len(won)
            if not won:
                continue
            claims = [
                _Claim(won[task_id], task_id, window.level, deadline, department_id)
                for task_id, deadline, department_id in rows
                if task_id in won
            ]
            self.deliver(claims)

    def deliver(self, claims: list[_Claim]):
        """Mark the claims delivered and write their notifications and digests, all or nothing."""
        self.recipients.load({claim.department_id for claim in claims})
        with transaction.atomic():
            ids = [claim.id for claim in claims]
            done = ReminderClaim.objects.filter(pk__in=ids, token=self.token, status=ClaimStatus.CLAIMED).update(
                status=ClaimStatus.DELIVERED, delivered_at=self.now
            )
            if done != len(ids):
                # Another run took some over (we were slower than CLAIM_STALE_AFTER): keep ours only.
                ours = set(
                    ReminderClaim.objects.filter(
                        pk__in=ids, token=self.token, status=ClaimStatus.DELIVERED
                    ).values_list("pk", flat=True)
                )
                claims = [claim for claim in claims if claim.id in ours]
            rows = []
            for claim in claims:
                for recipient_id, email in self.recipients.for_claim(claim).items():
                    rows.append((claim, recipient_id, email))
            self.create_digests({recipient_id: email for _, recipient_id, email in rows})
            _insert_notifications(
                [
                    (recipient_id, claim.task_id, claim.level, claim.deadline, self.digest_for.get(recipient_id))
                    for claim, recipient_id, _ in rows
                ],
                now=self.now,
            )
        for claim in claims:
            self.summary.sent[claim.level] += 1
        self.summary.notifications += len(rows)

    def create_digests(self, emails: dict[int, str]):
        new = [pk for pk, email in emails.items() if email and pk not in self.digest_for]
        if not new:
            return
        digests = [ReminderDigest(recipient_id=pk, created_at=self.now, next_attempt_at=self.now) for pk in new]
        if connection.features.can_return_rows_from_bulk_insert:
            ReminderDigest.objects.bulk_create(digests)
        else:
            for digest in digests:
                digest.save()
        self.digest_for.update((digest.recipient_id, digest.pk) for digest in digests)
        self.summary.digests += len(digests)

    def send_digests(self):
        # This run's digests, and earlier ones whose backoff has passed (a mail server
        # that was down, or a run killed before it sent its mail).
        result = notifications.reminder_digests_send_due(now=self.now)
        self.summary.emails = result.sent
        self.summary.email_failures = result.failed
        self.summary.failed_digest_ids = result.retry_ids


def reminders_send_due(*, now: dt.datetime, limit: int = DEFAULT_LIMIT, batch_size: int = BATCH_SIZE) -> ReminderRun:
    """Send every reminder level that is due at `now` and not yet sent; safe to run concurrently."""
    if timezone.is_naive(now):
        raise DomainError(_("The reminder run needs a time with a time zone, got %(now)s.") % {"now": now.isoformat()})
    if limit < 1 or batch_size < 1:
        raise DomainError(_("The reminder run's limit and batch size must be at least 1."))
    return _Run(now=now, limit=limit, batch_size=batch_size).execute()


def reminder_claims_take(*, now: dt.datetime, level: str, task_ids: list[int]) -> dict[int, int]:
    """Claim `level` for these tasks without delivering (what a run killed mid-way leaves behind)."""
    rows = list(
        Task.objects.filter(pk__in=task_ids, state__in=HANDLING_STATES, deadline__isnull=False).values_list(
            "pk", "deadline"
        )
    )
    return _insert_claims(rows, level=level, token=uuid.uuid4().hex, now=now)


__all__ = [
    "DEFAULT_RULES",
    "LEVEL_ORDER",
    "ReminderRun",
    "Window",
    "level_on",
    "level_windows",
    "reminder_claims_take",
    "reminder_rules",
    "reminders_send_due",
]
