"""Celery jobs of the tasks app: thin wrappers over the domain functions (STYLE.md)."""

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import notifications, reminders
from .reminders import cadence
from .errors import DomainError


def _parse(now: str | None):
    # Beat sends no argument (the job runs "now"); tests and operators may pass a moment.
    at = parse_datetime(now) if now else timezone.now()
    if at is None or timezone.is_naive(at):
        raise DomainError(f"Not an ISO date-time with a UTC offset: {now!r}")
    return at


@shared_task(name="tasks.jobs.send_due_reminders", acks_late=True, time_limit=600, soft_time_limit=540)
def send_due_reminders(now: str | None = None, limit: int | None = None) -> dict:
    """The beat job: one reminder run; mail that failed is handed to send_reminder_digest."""
    at = _parse(now)
    summary = reminders.reminders_send_due(now=at, limit=limit or reminders.DEFAULT_LIMIT)
    for digest_id in summary.failed_digest_ids:
        send_reminder_digest.apply_async((digest_id,), countdown=60)
    if summary.more:
        # The run stopped at its limit: the rest follows at once, not in 15 minutes.
        send_due_reminders.apply_async(kwargs={"now": now, "limit": limit})
    return summary.as_dict()


@shared_task(name="tasks.jobs.run_cadence", acks_late=True, time_limit=600, soft_time_limit=540)
def run_cadence(now: str | None = None) -> dict:
    """The daily cadence job: weekly lists, monthly report cards and the quarterly look-back draw, each once."""
    at = _parse(now)
    summary = cadence.cadence_run_due(now=at).as_dict()
    mail = notifications.reminder_digests_send_due(now=at)
    for digest_id in mail.retry_ids:
        send_reminder_digest.apply_async((digest_id,), countdown=60)
    return {**summary, "emails": mail.sent, "email_failures": mail.failed}


@shared_task(
    name="tasks.jobs.send_reminder_digest",
    bind=True,
    acks_late=True,
    time_limit=120,
    soft_time_limit=100,
    # Only what a mail server or network does (SMTPException, refused connection, timeout:
    # all OSError); a DomainError (no such digest) or a bug is not retried.
    autoretry_for=(OSError,),
    dont_autoretry_for=(DomainError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=notifications.MAX_EMAIL_ATTEMPTS,
)
def send_reminder_digest(self, digest_id: int) -> bool:
    """Send one reminder e-mail digest, retried with backoff while the mail server fails."""
    return notifications.reminder_digest_send(digest_id=digest_id, now=timezone.now())


@shared_task(name="tasks.jobs.refresh_report_card_rollups", acks_late=True, time_limit=300, soft_time_limit=270)
def refresh_report_card_rollups() -> str | None:
    """Rebuild the report cards' daily rollups; a second worker finding one running skips."""
    from .reportcards import rollups

    refresh = rollups.rollups_refresh()
    return refresh.finished_at.isoformat() if refresh and refresh.finished_at else None
