"""`manage.py send_reminders [--now ISO] [--limit N]`: one reminder run, as the beat job does."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tasks.errors import DomainError
from tasks.reminders import DEFAULT_LIMIT, reminders_send_due


def _parse_now(value: str):
    try:
        at = parse_datetime(value)
    except ValueError as exc:
        raise CommandError(f"--now {value!r} is not a valid date-time: {exc}") from exc
    if at is None:
        raise CommandError(f"--now {value!r} is not an ISO date-time such as 2021-11-15T09:00:00+08:00")
    # A time without an offset is local time (TIME_ZONE), as an official would read it.
    return timezone.make_aware(at) if timezone.is_naive(at) else at


class Command(BaseCommand):
    help = "Send the due-soon, due-today, overdue and escalated reminders that are due and not yet sent."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Run as if it were this time (ISO 8601; local time if no offset).")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="Most reminders to send in this run.")

    def handle(self, *args, now=None, limit=DEFAULT_LIMIT, **options):
        at = _parse_now(now) if now else timezone.now()
        try:
            summary = reminders_send_due(now=at, limit=limit)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary.line())
        if not summary.working_day:
            self.stderr.write(f"{timezone.localdate(at)} is not a working day: nothing is sent on days off.")
        if summary.email_failures:
            self.stderr.write(f"{summary.email_failures} e-mails failed; the next runs retry them with backoff.")
