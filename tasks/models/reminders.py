"""Reminder policy, reminder claims, in-app notifications and e-mail digests.

The rules (which tasks get which level when, who receives it) live in tasks.reminders;
e-mail delivery in tasks.notifications. Here: fields, constraints and indexes only.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AssistReminderClaim",
    "Audience",
    "ClaimStatus",
    "DigestKind",
    "INSTRUCTION_LEVEL",
    "NOTIFICATION_LEVELS",
    "LookBackDraw",
    "LookBackSample",
    "Notification",
    "ReminderClaim",
    "ReminderDigest",
    "ReminderLevel",
    "ReminderRule",
]


class ReminderLevel(models.TextChoices):
    """The four deadline levels of DOMAIN.md, then the same-day targets (当天上报、当天阅批、当天转办).

    A same-day level is reached when a task is still waiting for that step after the end
    of its registration working day; its "deadline" is the end of that day.
    """

    DUE_SOON = "due_soon", _("due soon")
    DUE_TODAY = "due_today", _("due today")
    OVERDUE = "overdue", _("overdue")
    ESCALATED = "escalated", _("escalated")
    NOT_REPORTED = "not_reported", _("not reported on its registration day")
    NOT_REVIEWED = "not_reviewed", _("not reviewed on its registration day")
    NOT_ASSIGNED = "not_assigned", _("not assigned on its registration day")


# Not a reminder level: a leader's instruction (领导批示) on the task, written at once by
# tasks.services.instructions for the lead department. No reminder rule, claim or e-mail
# digest has it; the notification centre shows it like a level.
INSTRUCTION_LEVEL = "instruction"
NOTIFICATION_LEVELS = [*ReminderLevel.choices, (INSTRUCTION_LEVEL, _("leader's instruction"))]


class Audience(models.TextChoices):
    """Who a level goes to; handlers and heads are those of the task's lead department."""

    HANDLERS = "handlers", _("handlers of the lead department")
    HEAD = "head", _("head of the lead department")
    SUPERVISORS = "supervisors", _("supervision office")
    LEADERS = "leaders", _("leaders")


class ReminderRule(models.Model):
    """The admin's policy for one level; a level without a row uses DOMAIN.md's defaults.

    A model rather than an environment variable because DOMAIN.md makes the reminder
    policy an admin's job: it changes without a deployment, and the admin sees it.
    """

    level = models.CharField(_("level"), max_length=16, choices=ReminderLevel.choices, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Only due_soon (days before the deadline) and escalated (days after it) use this;
    # due_today is the deadline day and overdue the first working day after, by definition.
    days = models.PositiveSmallIntegerField(
        _("working days"),
        default=0,
        validators=[MaxValueValidator(30)],
        help_text=_(
            "Due soon: working days before the deadline (at least 1). "
            "Escalated: working days after the deadline (at least 2). Ignored for the other levels."
        ),
    )
    to_handlers = models.BooleanField(_("to the handlers"), default=False)
    to_head = models.BooleanField(_("to the department head"), default=False)
    to_supervisors = models.BooleanField(_("to the supervision office"), default=False)
    to_leaders = models.BooleanField(_("to the leaders"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder policy")

    def __str__(self):
        return str(self.get_level_display())

    @property
    def audiences(self) -> frozenset:
        flags = {
            Audience.HANDLERS: self.to_handlers,
            Audience.HEAD: self.to_head,
            Audience.SUPERVISORS: self.to_supervisors,
            Audience.LEADERS: self.to_leaders,
        }
        return frozenset(audience for audience, on in flags.items() if on)

    def clean(self):
        if self.level == ReminderLevel.DUE_SOON and self.days < 1:
            raise ValidationError({"days": _("A due-soon reminder needs at least 1 working day before the deadline.")})
        if self.level == ReminderLevel.ESCALATED and self.days < 2:
            # With 1 the overdue level (first working day after the deadline) would never be sent.
            raise ValidationError({"days": _("Escalation needs at least 2 working days after the deadline.")})
        if self.is_active and not self.audiences:
            raise ValidationError(_("An active reminder level needs at least one kind of recipient."))


class ClaimStatus(models.TextChoices):
    CLAIMED = "claimed", _("claimed")
    DELIVERED = "delivered", _("delivered")
    # The task left the handling states or got a new deadline before delivery.
    CANCELLED = "cancelled", _("cancelled")
    # Taken over too many times (a delivery that keeps crashing): given up, and logged.
    FAILED = "failed", _("failed")


class ReminderClaim(models.Model):
    """The right to send one level for one task and one deadline: whoever inserts the row sends.

    The unique constraint is the exactly-once guarantee; `token` names the run that owns
    an undelivered claim, so a run killed mid-way can be taken over by exactly one other.
    """

    # No index of its own: the unique constraint below starts with the task.
    task = models.ForeignKey(
        "tasks.Task", models.CASCADE, related_name="reminder_claims", db_index=False, verbose_name=_("task")
    )
    level = models.CharField(_("level"), max_length=16, choices=ReminderLevel.choices)
    # The handling deadline the level was computed for: an extension gives a new key.
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.CLAIMED)
    token = models.CharField(_("run"), max_length=32)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("reminder claim")
        verbose_name_plural = _("reminder claims")
        constraints = [
            models.UniqueConstraint(fields=["task", "level", "deadline"], name="reminder_claim_once"),
        ]
        indexes = [
            # Each run's search for claims whose run died before delivering them.
            models.Index(
                fields=["claimed_at"], condition=Q(status="claimed"), name="reminder_claim_pending_idx"
            ),
        ]

    def __str__(self):
        return f"{self.task_id} {self.level} {self.deadline:%Y-%m-%d}"


class AssistReminderClaim(models.Model):
    """The right to send one level for one assisting part (协办) and its sub-deadline.

    The same guarantee as ReminderClaim, keyed on the part: whoever inserts the row sends,
    and a changed sub-deadline (the lead's extension) gives a new key.
    """

    # No index of its own: the unique constraint below starts with the part.
    assist = models.ForeignKey(
        "tasks.TaskAssist", models.CASCADE, related_name="reminder_claims", db_index=False,
        verbose_name=_("assisting department"),
    )
    level = models.CharField(_("level"), max_length=16, choices=ReminderLevel.choices)
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.CLAIMED)
    token = models.CharField(_("run"), max_length=32)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("assisting reminder claim")
        verbose_name_plural = _("assisting reminder claims")
        constraints = [
            models.UniqueConstraint(fields=["assist", "level", "deadline"], name="assist_reminder_claim_once"),
        ]
        indexes = [
            # Each run's search for claims whose run died before delivering them.
            models.Index(
                fields=["claimed_at"], condition=Q(status="claimed"), name="assist_claim_pending_idx"
            ),
        ]

    def __str__(self):
        return f"{self.assist_id} {self.level} {self.deadline:%Y-%m-%d}"


class DigestKind(models.TextChoices):
    REMINDERS = "reminders", _("reminders")
    WEEKLY = "weekly", _("weekly department list")  # 一周一调度
    MONTHLY = "monthly", _("monthly report card")  # 一月一推进


class ReminderDigest(models.Model):
    """One e-mail to one recipient: a reminder run's new notifications, or a weekly or monthly mailing.

    A weekly or monthly mailing is inserted once per (kind, period, recipient, department)
    under the unique constraint, so the daily cadence job can run any number of times.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=DigestKind.choices, default=DigestKind.REMINDERS)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="reminder_digests", verbose_name=_("recipient")
    )
    # Weekly and monthly mailings: the department they are about and the period's first day.
    department = models.ForeignKey(
        "org.Department", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    period_start = models.DateField(_("period"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Set by the sender that holds it; a sender that died leaves it, and it goes stale.
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    given_up = models.BooleanField(_("given up"), default=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("reminder e-mail")
        verbose_name_plural = _("reminder e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period_start", "department", "recipient"],
                condition=~Q(kind="reminders"),
                name="reminder_digest_once_per_period",
            ),
        ]
        indexes = [
            # Each run's retry of e-mails that are due again after a failure.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, given_up=False),
                name="reminder_digest_unsent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.created_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app reminder (one recipient, one task, one level, for one deadline), or a leader's instruction."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    task = models.ForeignKey("tasks.Task", models.CASCADE, related_name="notifications", verbose_name=_("task"))
    level = models.CharField(_("level"), max_length=16, choices=NOTIFICATION_LEVELS)
    # An instruction's notification carries the task's handling deadline then.
    deadline = models.DateTimeField(_("deadline"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set for a reminder about an assisting part (协办): `deadline` is then its sub-deadline.
    assist = models.ForeignKey(
        "tasks.TaskAssist", models.CASCADE, null=True, blank=True, related_name="+", db_index=False,
        verbose_name=_("assisting department"),
    )
    # Indexed below together with the level and deadline, not alone.
    digest = models.ForeignKey(
        ReminderDigest,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
        verbose_name=_("e-mail"),
    )

    # No unique constraint on (recipient, task, level, deadline): the claim's constraint
    # already decides who delivers, and the notifications are written in the same
    # transaction as the claim's move to delivered, so a delivery cannot half-happen.
    # At 300,000 notifications a run, one index less is a fifth of the insert time.
    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # "My unread notifications", newest first, and their count in the header.
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            # An e-mail digest: its count per level and the first tasks of each level by deadline.
            models.Index(fields=["digest", "level", "deadline"], name="notification_digest_idx"),
            # The notification centre: one user's notifications, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_idx"),
            # Deleting an assisting part (a return) deletes its reminders; partial, so the
            # lead's reminders (most rows) pay nothing for it on insert.
            models.Index(fields=["assist"], condition=Q(assist__isnull=False), name="notification_assist_idx"),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.task_id} {self.level}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class LookBackDraw(models.Model):
    """回头看: the quarter's draw for one department; its row is the claim that it was drawn once."""

    department = models.ForeignKey(
        "org.Department", models.CASCADE, related_name="look_back_draws", verbose_name=_("department")
    )
    quarter_start = models.DateField(_("quarter"))
    share = models.DecimalField(_("share"), max_digits=4, decimal_places=3)
    # Derived from the quarter and the department, stored so the draw can be repeated and checked.
    seed = models.CharField(_("seed"), max_length=64)
    closed_count = models.PositiveIntegerField(_("closed in the quarter"))
    drawn_at = models.DateTimeField(_("drawn at"), default=timezone.now)

    class Meta:
        ordering = ["-quarter_start", "department_id"]
        verbose_name = _("look-back draw")
        verbose_name_plural = _("look-back draws")
        constraints = [
            models.UniqueConstraint(fields=["department", "quarter_start"], name="look_back_draw_once"),
        ]

    def __str__(self):
        return f"{self.department_id} {self.quarter_start}"


class LookBackSample(models.Model):
    """A closed task drawn for re-checking: the supervision office's look-back queue until checked."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed solved")
        REOPENED = "reopened", _("reopened")

    # No index of its own: the unique constraint below starts with the draw.
    draw = models.ForeignKey(
        LookBackDraw, models.CASCADE, related_name="samples", db_index=False, verbose_name=_("draw")
    )
    task = models.ForeignKey("tasks.Task", models.CASCADE, related_name="look_back_samples", verbose_name=_("task"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("checked by")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    note = models.TextField(_("note"), blank=True, default="")

    class Meta:
        ordering = ["draw_id", "task_id"]
        verbose_name = _("look-back sample")
        verbose_name_plural = _("look-back queue")
        constraints = [models.UniqueConstraint(fields=["draw", "task"], name="look_back_sample_once")]
        indexes = [
            # The supervision office's queue: samples not checked yet, oldest draw first.
            models.Index(fields=["draw"], condition=Q(checked_at__isnull=True), name="look_back_open_idx"),
        ]

    def __str__(self):
        return f"{self.draw_id} {self.task_id}"
