"""The supervision cadence: 一周一调度, 一月一推进 and the quarterly 回头看.

One daily job (`cadence_run_due`) does all three, and may run any number of times:

- weekly: once the week's first working day has come (Monday, or later in a holiday
  week), each member (handlers and head) of each active department gets the list of the
  department's open, due-soon and overdue tasks, as of the moment the mail is sent;
- monthly: once the month's first working day has come (the 1st, or after New Year's or
  National Day), each department head gets the department's report card of the month
  just ended;
- quarterly: once the quarter's first working day has come, a share (LOOK_BACK_SHARE,
  default 10%, rounded up) of each department's tasks closed in the quarter just ended
  is drawn into the supervision office's look-back queue. The draw is seeded by the
  quarter and the department, so it can be repeated and checked;
- stale projects: each practical-task project without a progress update for 30 days
  reminds its department once per 30-day period (tasks.reminders.stale_projects).

A mailing is a ReminderDigest row inserted once under its unique constraint (kind,
period, department, recipient) and then sent like the reminder digests, with the same
retry and backoff. Nothing is queued on a day off.
"""

import dataclasses
import datetime as dt
import hashlib
import math
import random
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from org.models import Department, User

from .. import calendar
from ..errors import DomainError
from ..models import FINISHED_STATES, HANDLING_STATES, UNASSIGNED_STATES, State, Task
from ..models.reminders import DigestKind, LookBackDraw, LookBackSample, ReminderDigest
from ..urgency import urgent_first
from .levels import local_date, start_of
from .stale_projects import project_reminders_send_due

# A weekly list's "due soon": the deadline falls within this many working days.
WEEK_AHEAD_WORKING_DAYS = 5
LIST_ITEMS = 50
DEFAULT_LOOK_BACK_SHARE = Decimal("0.10")


def look_back_share() -> Decimal:
    """The share of closed tasks drawn each quarter: settings.LOOK_BACK_SHARE, a number in (0, 1]."""
    raw = getattr(settings, "LOOK_BACK_SHARE", DEFAULT_LOOK_BACK_SHARE)
    try:
        share = Decimal(str(raw))
    except InvalidOperation:
        share = None
    if share is None or not Decimal(0) < share <= Decimal(1):
        raise ImproperlyConfigured(f"LOOK_BACK_SHARE={raw!r} must be a number above 0 and at most 1, such as 0.10.")
    return share


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _has_begun(period_first: dt.date, today: dt.date) -> bool:
    """Today is a working day, and the period's first working day has come."""
    return calendar.is_working_day(today) and calendar.add_working_days(period_first, 0) <= today


@dataclasses.dataclass
class CadenceRun:
    weekly: int = 0
    monthly: int = 0
    look_back_departments: int = 0
    look_back_tasks: int = 0
    stale_projects: int = 0  # projects whose department was reminded of no update for 30 days

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _queue(kind: str, period_first: dt.date, pairs: list[tuple[int, int]], now: dt.datetime) -> int:
    """Insert the (recipient, department) mailings of a period that are not queued yet; returns how many were new."""
    existing = ReminderDigest.objects.filter(kind=kind, period_start=period_first)
    before = existing.count()
    # ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite): two jobs at once queue each mailing once.
    ReminderDigest.objects.bulk_create(
        [
            ReminderDigest(
                kind=kind,
                period_start=period_first,
                recipient_id=recipient_id,
                department_id=department_id,
                created_at=now,
                next_attempt_at=now,
            )
            for recipient_id, department_id in pairs
        ],
        ignore_conflicts=True,
    )
    return existing.count() - before


def _members(roles) -> list[tuple[int, int]]:
    members = User.objects.filter(
        is_active=True, role__in=roles, department__is_active=True, department__isnull=False
    ).exclude(email="")
    return list(members.values_list("pk", "department_id"))


def cadence_mailings_queue(*, now: dt.datetime) -> CadenceRun:
    """Queue this week's department lists and last month's report cards, each once per recipient."""
    run = CadenceRun()
    today = local_date(now)
    monday = week_start(today)
    if _has_begun(monday, today):
        run.weekly = _queue(DigestKind.WEEKLY, monday, _members([User.Role.HANDLER, User.Role.HEAD]), now)
    first = today.replace(day=1)
    if _has_begun(first, today):
        last_month = (first - dt.timedelta(days=1)).replace(day=1)
        run.monthly = _queue(DigestKind.MONTHLY, last_month, _members([User.Role.HEAD]), now)
    return run


def look_back_seed(*, quarter_first: dt.date, department: Department) -> str:
    return f"{quarter_first.year}-Q{(quarter_first.month - 1) // 3 + 1}/{department.code}"


def look_back_pick(task_ids: list[int], *, share: Decimal, seed: str) -> list[int]:
    """The drawn ids: ceil(share × n) of them, the same for the same ids, share and seed."""
    ordered = sorted(task_ids)
    count = min(len(ordered), math.ceil(Decimal(len(ordered)) * share))
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    return sorted(rng.sample(ordered, count))


def look_back_draw(*, quarter_first: dt.date, now: dt.datetime, share: Decimal | None = None) -> CadenceRun:
    """Draw each department's share of the quarter's closed tasks into the look-back queue, once."""
    if quarter_first != quarter_start(quarter_first):
        raise DomainError(_("%(date)s is not the first day of a quarter.") % {"date": quarter_first.isoformat()})
    share = look_back_share() if share is None else share
    next_first = quarter_start(quarter_first + dt.timedelta(days=93))
    closed = Task.objects.filter(
        state=State.CLOSED,
        lead_department__isnull=False,
        closed_at__gte=start_of(quarter_first),
        closed_at__lt=start_of(next_first),
    )
    drawn = LookBackDraw.objects.filter(quarter_start=quarter_first).values("department_id")
    pending = closed.exclude(lead_department_id__in=drawn).values_list("lead_department_id", flat=True).distinct()
    run = CadenceRun()
    for department in Department.objects.filter(pk__in=list(pending)).order_by("pk"):
        ids = list(closed.filter(lead_department=department).values_list("pk", flat=True))
        seed = look_back_seed(quarter_first=quarter_first, department=department)
        picked = look_back_pick(ids, share=share, seed=seed)
        try:
            with transaction.atomic():
                draw = LookBackDraw.objects.create(
                    department=department,
                    quarter_start=quarter_first,
                    share=share,
                    seed=seed,
                    closed_count=len(ids),
                    drawn_at=now,
                )
                LookBackSample.objects.bulk_create([LookBackSample(draw=draw, task_id=pk) for pk in picked])
        except IntegrityError:
            continue  # another job drew this department's quarter a moment ago
        run.look_back_departments += 1
        run.look_back_tasks += len(picked)
    return run


def cadence_run_due(*, now: dt.datetime) -> CadenceRun:
    """The daily cadence job: queue the weekly and monthly mailings and the quarter's look-back draw when due."""
    run = cadence_mailings_queue(now=now)
    today = local_date(now)
    this_quarter = quarter_start(today)
    if _has_begun(this_quarter, today):
        previous = quarter_start(this_quarter - dt.timedelta(days=1))
        drawn = look_back_draw(quarter_first=previous, now=now)
        run.look_back_departments, run.look_back_tasks = drawn.look_back_departments, drawn.look_back_tasks
    run.stale_projects = project_reminders_send_due(now=now).projects
    return run


# --- Reads for the mailings and the supervision office ------------------------------------


def weekly_list_context(*, department: Department, now: dt.datetime) -> dict:
    """A department's open, due-soon and overdue tasks now: counts, and the first ones (urgent first) by deadline."""
    today = local_date(now)
    open_tasks = Task.objects.filter(lead_department=department).exclude(
        state__in=list(FINISHED_STATES) + list(UNASSIGNED_STATES)
    )
    horizon = start_of(calendar.add_working_days(today, WEEK_AHEAD_WORKING_DAYS + 1))
    overdue = Q(state__in=HANDLING_STATES, deadline__lt=now)
    due_soon = Q(state__in=HANDLING_STATES, deadline__gte=now, deadline__lt=horizon)
    counts = open_tasks.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=overdue), due_soon=Count("pk", filter=due_soon)
    )
    fields = ("pk", "title", "deadline", "state")
    order = (urgent_first(), "deadline", "pk")
    return {
        "department": department,
        "counts": counts,
        "overdue": list(open_tasks.filter(overdue).order_by(*order).only(*fields)[:LIST_ITEMS]),
        "due_soon": list(open_tasks.filter(due_soon).order_by(*order).only(*fields)[:LIST_ITEMS]),
        "week_ahead": WEEK_AHEAD_WORKING_DAYS,
    }


def monthly_report_context(*, department: Department, month_first: dt.date, now: dt.datetime) -> dict:
    """A department's report card of one month, as label and shown value pairs."""
    from ..reportcards import FIGURES, Rate, for_department, report_card
    from ..reportcards import periods as reportcard_periods

    period = reportcard_periods.month(month_first.year, month_first.month)
    card = report_card(for_department(department), period, now=now)
    rows = []
    for code, value in card.figures.items():
        if isinstance(value, Rate):
            shown = "—" if value.rate is None else f"{value.numerator} / {value.denominator} ({value.percent:.1f}%)"
        else:
            shown = "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        rows.append({"code": code, "label": str(FIGURES[code].label), "value": shown})
    return {"department": department, "period": period, "figures": rows}


def look_back_queue(*, user):
    """The supervision office's look-back queue: drawn tasks not checked yet, oldest quarter first."""
    if not user.sees_all_departments:
        return LookBackSample.objects.none()
    return (
        LookBackSample.objects.filter(checked_at__isnull=True)
        .select_related("task", "draw", "draw__department")
        .order_by("draw__quarter_start", "draw__department_id", "task_id")
    )


def look_back_sample_check(*, actor: User, sample_id: int, reopen: bool, note: str, now: dt.datetime):
    """Record a look-back check; when the problem is not really solved, reopen the task."""
    from ..services import task_reopen_look_back

    if not actor.is_supervisor:
        raise DomainError(_("Only the supervision office checks look-back samples."))
    with transaction.atomic():
        sample = LookBackSample.objects.select_for_update().select_related("task").filter(pk=sample_id).first()
        if sample is None:
            raise DomainError(_("Look-back sample %(id)s does not exist.") % {"id": sample_id})
        if sample.checked_at is not None:
            raise DomainError(_("This look-back sample was already checked."))
        if reopen:
            task_reopen_look_back(actor=actor, task=sample.task, note=note, now=now)
        sample.checked_at, sample.checked_by, sample.note = now, actor, note.strip()
        sample.outcome = LookBackSample.Outcome.REOPENED if reopen else LookBackSample.Outcome.CONFIRMED
        sample.save(update_fields=["checked_at", "checked_by", "note", "outcome"])
    return sample
