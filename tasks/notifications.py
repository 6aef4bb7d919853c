"""In-app notifications (reads and marking read) and the reminder e-mail digests.

A digest is one e-mail to one recipient for one reminder run. Its row is written in the
same transaction as the notifications it lists, so the e-mail can fail, be retried with
backoff, or be picked up after a crash, without the in-app notifications depending on it.
Sending is claimed by a conditional UPDATE of `sending_since`, so two senders (the next
run and a Celery retry) never send one digest twice. SMTP cannot be made exactly-once:
a sender killed after the server accepted the mail but before `sent_at` was saved sends
it again once the claim is stale; we prefer a rare duplicate to a lost reminder.
"""

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from .errors import DomainError
from .models.reminders import DigestKind, Notification, ReminderDigest, ReminderLevel

log = logging.getLogger(__name__)

# An e-mail lists this many tasks per level; a supervisor with 10,000 overdue tasks gets
# the count and the first ones, and the full list in the application.
DIGEST_ITEMS_PER_LEVEL = 50
# A sender that has held a digest this long has died.
DIGEST_STALE_AFTER = dt.timedelta(minutes=10)
MAX_EMAIL_ATTEMPTS = 8
DIGESTS_PER_RUN = 5_000
# Most urgent first, in e-mails and when a run's limit is reached.
LEVEL_ORDER = (
    ReminderLevel.ESCALATED,
    ReminderLevel.OVERDUE,
    ReminderLevel.DUE_TODAY,
    ReminderLevel.DUE_SOON,
    ReminderLevel.NOT_ASSIGNED,
    ReminderLevel.NOT_REVIEWED,
    ReminderLevel.NOT_REPORTED,
)


def is_transient(exc: BaseException) -> bool:
    """Mail errors worth retrying: SMTP refusals, refused or dropped connections, timeouts."""
    # smtplib.SMTPException, ConnectionError, TimeoutError and socket.gaierror are all OSErrors.
    return isinstance(exc, OSError)


def email_backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: 1, 2, 4 … minutes, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


# --- In-app notifications -------------------------------------------------------------


def notifications_unread_for(*, user, limit: int = 50) -> list[Notification]:
    """The user's unread notifications, newest first, with their tasks."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True).select_related(
        "task", "task__lead_department"
    )
    return list(rows.order_by("-created_at", "-id")[:limit])


def notifications_unread_count(*, user) -> int:
    """How many unread notifications the user has (the badge in the header)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, user, notification_id: int, now: dt.datetime) -> Notification:
    """Mark one of the user's own notifications read."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is None:
        raise DomainError(_("Notification %(id)s does not exist or is not yours.") % {"id": notification_id})
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user, now: dt.datetime) -> int:
    """Mark all the user's notifications read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


# --- E-mail digests -----------------------------------------------------------------


@dataclasses.dataclass
class DigestSendResult:
    sent: int = 0
    failed: int = 0
    # Failed with a transient error: the Celery job retries these with backoff.
    retry_ids: list = dataclasses.field(default_factory=list)


def reminder_digests_send_due(*, now: dt.datetime, limit: int = DIGESTS_PER_RUN) -> DigestSendResult:
    """Send every digest that is due (new, or its backoff has passed); one failure does not stop the rest."""
    result = DigestSendResult()
    due = (
        ReminderDigest.objects.filter(sent_at__isnull=True, given_up=False, next_attempt_at__lte=now)
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - DIGEST_STALE_AFTER))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return result
    connection = _open()
    try:
        for digest_id in ids:
            try:
                if reminder_digest_send(digest_id=digest_id, now=now, connection=connection):
                    result.sent += 1
            except Exception as exc:  # noqa: BLE001  (one recipient's failure must not stop the others)
                result.failed += 1
                if is_transient(exc):
                    result.retry_ids.append(digest_id)
                log.warning("Reminder e-mail %s failed: %r", digest_id, exc)
                connection = _reopen(connection)
    finally:
        _close(connection)
    return result


def reminder_digest_send(*, digest_id: int, now: dt.datetime, connection=None) -> bool:
    """Send one digest unless it was sent or is being sent; a failure is recorded, then re-raised."""
    digest = ReminderDigest.objects.select_related("recipient", "department").filter(pk=digest_id).first()
    if digest is None:
        raise DomainError(_("Reminder e-mail %(id)s does not exist.") % {"id": digest_id})
    if digest.sent_at is not None or digest.given_up:
        return False
    if not digest.recipient.email or not digest.recipient.is_active:
        ReminderDigest.objects.filter(pk=digest.pk).update(given_up=True, last_error="recipient has no address")
        return False
    took = (
        ReminderDigest.objects.filter(pk=digest.pk, sent_at__isnull=True, given_up=False)
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - DIGEST_STALE_AFTER))
        .update(sending_since=now, attempts=F("attempts") + 1)
    )
    if not took:
        return False
    attempts = digest.attempts + 1
    try:
        message = digest_message(digest, now=now)
        message.connection = connection
        message.send()
    except Exception as exc:
        ReminderDigest.objects.filter(pk=digest.pk).update(
            sending_since=None,
            last_error=repr(exc)[:500],
            next_attempt_at=now + email_backoff(attempts),
            # Any error is tried again by the next runs, with backoff, up to the last attempt
            # (a bug fixed by a deployment still gets the mail out); only mail-server errors
            # are also retried at once by the Celery job.
            given_up=attempts >= MAX_EMAIL_ATTEMPTS,
        )
        raise
    ReminderDigest.objects.filter(pk=digest.pk).update(sent_at=now, sending_since=None, last_error="")
    return True


def digest_message(digest: ReminderDigest, *, now: dt.datetime) -> EmailMultiAlternatives:
    """The e-mail of a digest: a reminder run's notifications, or a weekly or monthly mailing."""
    from .reminders import cadence  # the cadence imports this module's LEVEL_ORDER

    if digest.kind == DigestKind.WEEKLY:
        template = "emails/weekly_department"
        context = cadence.weekly_list_context(department=digest.department, now=now)
    elif digest.kind == DigestKind.MONTHLY:
        template = "emails/monthly_report_card"
        context = cadence.monthly_report_context(department=digest.department, month_first=digest.period_start, now=now)
    else:
        template = "emails/reminder_digest"
        context = reminder_digest_context(digest)
    context.update(recipient_name=digest.recipient.get_full_name(), site_url=getattr(settings, "SITE_URL", ""))
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{template}_body.txt", context), to=[digest.recipient.email]
    )
    message.attach_alternative(render_to_string(f"{template}_body.html", context), "text/html")
    return message


def reminder_digest_context(digest: ReminderDigest) -> dict:
    """Per level, the count of the digest's notifications and the first tasks (one query, plus one per level)."""
    notes = Notification.objects.filter(digest=digest)
    counts = dict(notes.order_by().values_list("level").annotate(n=Count("pk")))
    items: dict[str, list] = {}
    for level in LEVEL_ORDER:
        if not counts.get(level.value):
            continue
        # A query per level with its own LIMIT: the database sorts a supervisor's 50,000
        # notifications' keys and joins only the first ones to their tasks.
        first = notes.filter(level=level).select_related("task", "task__lead_department")
        items[level.value] = [
            {
                "task_id": note.task.pk,
                "title": note.task.title,
                "department": str(note.task.lead_department or ""),
                "deadline": note.deadline,
                # A reminder of an assisting part (协办): the deadline is its sub-deadline.
                "assisting": note.assist_id is not None,
                "url": _task_url(note.task.pk),
            }
            for note in first.order_by("deadline", "task_id")[:DIGEST_ITEMS_PER_LEVEL]
        ]
    groups = [
        {
            "level": level.value,
            "label": str(level.label),
            "count": counts[level.value],
            "items": items.get(level.value, []),
            "more": counts[level.value] - len(items.get(level.value, [])),
        }
        for level in LEVEL_ORDER
        if counts.get(level.value)
    ]
    return {"groups": groups, "total": sum(counts.values())}


def _task_url(pk: int) -> str:
    # A link in an e-mail needs the site's address (settings.SITE_URL); without it, or
    # without the task page, the e-mail lists the tasks unlinked.
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    if not site:
        return ""
    try:
        return site + reverse("tasks:detail", args=[pk])
    except NoReverseMatch:
        return ""


def _open():
    # One connection for the run's e-mails. If the server is down, opening fails here and
    # again in each send, and each digest records its own failure.
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # noqa: BLE001
        log.warning("The mail server is not reachable; reminder e-mails will be retried", exc_info=True)
    return connection


def _reopen(connection):
    # After an SMTP error the connection may be half-open: the next recipient gets a fresh one.
    _close(connection)
    return _open()


def _close(connection):
    try:
        connection.close()
    except Exception:  # noqa: BLE001  (closing a broken connection must not hide the real error)
        log.debug("Closing the mail connection failed", exc_info=True)


__all__ = [
    "DigestSendResult",
    "digest_message",
    "email_backoff",
    "is_transient",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notifications_unread_count",
    "notifications_unread_for",
    "reminder_digest_context",
    "reminder_digest_send",
    "reminder_digests_send_due",
]
