"""One reminder run: take over dead runs' claims, claim, deliver in batches, then send the e-mails."""

import dataclasses
import datetime as dt
import logging
import uuid

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User

from .. import calendar, notifications
from ..errors import DomainError
from ..models import HANDLING_STATES, Task
from ..models.reminders import Audience, ClaimStatus, ReminderClaim, ReminderDigest, ReminderLevel
from .assists import AssistReminders
from .claims import Claim, candidates, insert_claims, insert_notifications
from .levels import SAME_DAY_LEVELS, LevelRule, Window, level_in, level_windows, local_date, reminder_rules

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 200_000
BATCH_SIZE = 2_000
# A claim not delivered after this long belongs to a run that died. Each batch is
# claimed and delivered within seconds, so this only needs to exceed one batch's time.
CLAIM_STALE_AFTER = dt.timedelta(minutes=5)
# A claim taken over this many times crashes its deliverer every time: give it up.
MAX_CLAIM_ATTEMPTS = 5


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
    # Reminders of assisting parts (协办) delivered, all levels together (tasks.reminders.assists).
    assist_parts: int = 0
    more: bool = False
    failed_digest_ids: list = dataclasses.field(default_factory=list)

    def line(self) -> str:
        counts = " ".join(f"{level.value}={self.sent[level.value]}" for level in ReminderLevel)
        return (
            f"{counts} assist_parts={self.assist_parts} notifications={self.notifications} emails={self.emails} "
            f"email_failures={self.email_failures}" + (" more=1" if self.more else "")
        )

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["now"] = self.now.isoformat()
        return data


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

    def for_claim(self, claim: Claim) -> dict[int, str]:
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
        self.today = local_date(now)
        self.limit = limit
        self.batch_size = batch_size
        self.token = uuid.uuid4().hex
        self.summary = ReminderRun(now=now)
        self.rules = reminder_rules()
        self.windows = level_windows(today=self.today, rules=self.rules, now=now)
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
        AssistReminders(self).execute()
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
        oldest = list(stale.order_by("claimed_at").values_list("pk", flat=True)[: self.limit])
        # Conditional on still being stale: of two runs, only the first to update wins a row.
        self.taken += ReminderClaim.objects.filter(
            pk__in=oldest, status=ClaimStatus.CLAIMED, claimed_at__lt=cutoff
        ).update(token=self.token, claimed_at=self.now, attempts=F("attempts") + 1)
        mine = ReminderClaim.objects.filter(token=self.token, status=ClaimStatus.CLAIMED).select_related("task")
        claims, cancelled = [], []
        fields = ("pk", "level", "deadline", "task__state", "task__deadline", "task__lead_department_id")
        for claim in mine.only(*fields):
            task = claim.task
            if self.still_due(claim, task):
                claims.append(Claim(claim.pk, claim.task_id, claim.level, claim.deadline, task.lead_department_id))
            else:
                cancelled.append(claim.pk)
        self.summary.retaken = len(claims) + len(cancelled)
        if cancelled:
            self.summary.cancelled += ReminderClaim.objects.filter(
                pk__in=cancelled, token=self.token, status=ClaimStatus.CLAIMED
            ).update(status=ClaimStatus.CANCELLED)
        for start in range(0, len(claims), self.batch_size):
            self.deliver(claims[start : start + self.batch_size])

    def still_due(self, claim: ReminderClaim, task: Task) -> bool:
        """A retaken claim is delivered only if its task is still at that level today."""
        if claim.level in SAME_DAY_LEVELS:
            active = any(window.level == claim.level for window in self.windows)
            return active and task.state == SAME_DAY_LEVELS[claim.level]
        return (
            task.state in HANDLING_STATES
            and task.deadline == claim.deadline
            and level_in(self.windows, claim.deadline) == claim.level
        )

    def claim_and_deliver(self, window: Window):
        after_id = 0
        while self.room():
            rows = candidates(window, after_id=after_id, size=min(self.batch_size, self.room()))
            if not rows:
                return
            after_id = rows[-1][0]
            won = insert_claims(rows, level=window.level, token=self.token, now=self.now)
            self.taken += len(won)
            if not won:
                continue
            claims = [
                Claim(won[task_id], task_id, window.level, deadline, department_id)
                for task_id, deadline, department_id in rows
                if task_id in won
            ]
            self.deliver(claims)

    def deliver(self, claims: list[Claim]):
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
            insert_notifications(
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
