"""Projects without a progress update for 30 days (STALE_AFTER_DAYS): a reminder to the owning department.

A project's staleness counts calendar days from its last progress update (or from its
start, before the first one). At 30 days it reaches staleness period 1, at 60 period 2,
and so on; a new update starts again from its date. Finished projects (every indicator
at its target) and projects not started yet are left alone.

Exactly once, like the task reminders: a run inserts a ProjectReminderClaim under the
unique constraint (project, last update, period) in the same transaction as the in-app
notices (ProjectNotice) to the department's active handlers and head; a run that loses
the insert sends nothing, so any number of runs, retries or workers notify once per
project per period. E-mails follow after the commit, one per recipient per run listing
its projects; a failed e-mail is logged and not retried (the in-app notice stands).
Like the deadline reminders, a run on a day that is not a working day sends nothing; the
next working day's run makes it up. The daily cadence job (cadence_run_due) runs it.
"""

import dataclasses
import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from org.models import User

from .. import calendar
from ..errors import DomainError
from ..models.projects import Indicator, ProgressUpdate, Project, ProjectNotice, ProjectReminderClaim

log = logging.getLogger(__name__)

STALE_AFTER_DAYS = 30
DEFAULT_LIMIT = 1_000


@dataclasses.dataclass
class StaleProjectRun:
    """What one run did."""

    working_day: bool = True
    projects: int = 0
    notices: int = 0
    emails: int = 0
    email_failures: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def stale_projects(*, today: dt.date, limit: int = DEFAULT_LIMIT) -> list[tuple[int, int, dt.date, int]]:
    """(project, department, last update, days idle) of unfinished started projects idle ≥ 30 days; one query."""
    latest = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-recorded_on")
    unfinished = Indicator.objects.filter(project=OuterRef("pk"), target__gt=F("baseline"), current__lt=F("target"))
    cutoff = today - dt.timedelta(days=STALE_AFTER_DAYS)
    rows = (
        Project.objects.filter(Exists(unfinished), starts_on__lte=cutoff, department__is_active=True)
        .annotate(since=Coalesce(latest.values("recorded_on")[:1], F("starts_on")))
        .filter(since__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "department_id", "since")[:limit]
    )
    return [(pk, department_id, since, (today - since).days) for pk, department_id, since in rows]


def _claim(project_id: int, since: dt.date, period: int, now: dt.datetime) -> ProjectReminderClaim | None:
    # The savepoint keeps a lost race (IntegrityError) from breaking the run's transaction.
    try:
        with transaction.atomic():
            return ProjectReminderClaim.objects.create(
                project_id=project_id, stale_since=since, period=period, claimed_at=now
            )
    except IntegrityError:
        return None


def _members(department_ids) -> dict[int, list[tuple[int, str]]]:
    members = defaultdict(list)
    rows = User.objects.filter(
        is_active=True, role__in=[User.Role.HANDLER, User.Role.HEAD], department_id__in=department_ids
    ).order_by("pk")
    for pk, department_id, email in rows.values_list("pk", "department_id", "email"):
        members[department_id].append((pk, email))
    return members


def project_reminders_send_due(*, now: dt.datetime, limit: int = DEFAULT_LIMIT) -> StaleProjectRun:
    """Remind each stale project's department once per staleness period; safe to run concurrently."""
    if timezone.is_naive(now):
        raise DomainError(f"The reminder run needs a time with a time zone, got {now.isoformat()}.")
    run = StaleProjectRun()
    today = timezone.localdate(now)
    if not calendar.is_working_day(today):
        run.working_day = False
        return run
    stale = stale_projects(today=today, limit=limit)
    if not stale:
        return run
    # Claims already taken (by earlier runs) are skipped without an insert attempt.
    taken = set(
        ProjectReminderClaim.objects.filter(project_id__in=[row[0] for row in stale]).values_list(
            "project_id", "stale_since", "period"
        )
    )
    members = _members({row[1] for row in stale})
    mail: dict[int, tuple[str, list]] = {}
    with transaction.atomic():
        notices = []
        for project_id, department_id, since, idle in stale:
            period = idle // STALE_AFTER_DAYS
            if (project_id, since, period) in taken:
                continue
            claim = _claim(project_id, since, period, now)
            if claim is None:
                continue
            people = members.get(department_id, [])
            ProjectReminderClaim.objects.filter(pk=claim.pk).update(recipients=len(people))
            run.projects += 1
            for recipient_id, email in people:
                notices.append(
                    ProjectNotice(recipient_id=recipient_id, project_id=project_id, claim=claim, idle_days=idle,
                                  created_at=now)
                )
                if email:
                    mail.setdefault(recipient_id, (email, []))[1].append((project_id, idle))
        ProjectNotice.objects.bulk_create(notices)
        run.notices = len(notices)
    _send_mail(mail, now=now, run=run)
    return run


def _send_mail(mail: dict, *, now: dt.datetime, run: StaleProjectRun) -> None:
    if not mail:
        return
    names = dict(Project.objects.filter(pk__in={pk for _, rows in mail.values() for pk, _ in rows}).values_list(
        "pk", "name"
    ))
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    connection = get_connection()
    for recipient_id, (address, rows) in mail.items():
        projects = [
            {"name": names.get(pk, ""), "idle_days": idle,
             "url": site + reverse("tasks:project_detail", args=[pk]) if site else ""}
            for pk, idle in rows
        ]
        context = {"projects": projects, "stale_after": STALE_AFTER_DAYS}
        try:
            EmailMessage(
                subject=" ".join(render_to_string("tasks/projects/stale_email_subject.txt", context).split()),
                body=render_to_string("tasks/projects/stale_email_body.txt", context),
                to=[address],
                connection=connection,
            ).send()
        except Exception as exc:  # noqa: BLE001  (one recipient's failure must not stop the others)
            run.email_failures += 1
            log.warning("Stale-project e-mail to user %s failed: %r", recipient_id, exc)
            continue
        run.emails += 1
        ProjectNotice.objects.filter(
            recipient_id=recipient_id, created_at=now, project_id__in=[pk for pk, _ in rows]
        ).update(emailed_at=now)


def project_notices_unread(*, user, limit: int = 20) -> list[ProjectNotice]:
    """The user's unread stale-project notices, newest first, with their projects."""
    rows = ProjectNotice.objects.filter(recipient=user, read_at__isnull=True).select_related("project")
    return list(rows.order_by("-created_at", "-id")[:limit])


def project_notices_mark_read(*, user, now: dt.datetime) -> int:
    """Mark all the user's stale-project notices read; returns how many were unread."""
    return ProjectNotice.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


__all__ = [
    "STALE_AFTER_DAYS",
    "StaleProjectRun",
    "project_notices_mark_read",
    "project_notices_unread",
    "project_reminders_send_due",
    "stale_projects",
]
