"""Reminder levels: the admin's policy, and which tasks are at which level on a given day."""

import dataclasses
import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from .. import calendar, notifications
from ..models import HANDLING_STATES, State, Task
from ..models.reminders import Audience, ReminderLevel, ReminderRule

log = logging.getLogger(__name__)

DEADLINE_LEVELS = (ReminderLevel.ESCALATED, ReminderLevel.OVERDUE, ReminderLevel.DUE_TODAY, ReminderLevel.DUE_SOON)
# The same-day targets: the state a task still waits in after its registration working day.
SAME_DAY_LEVELS = {
    ReminderLevel.NOT_ASSIGNED: State.REVIEWED,
    ReminderLevel.NOT_REVIEWED: State.REPORTED,
    ReminderLevel.NOT_REPORTED: State.REGISTERED,
}
# Most important first: when a run hits its limit, the next run sends the rest.
LEVEL_ORDER = notifications.LEVEL_ORDER
# The levels whose number of working days the admin sets.
DAYS_LEVELS = (ReminderLevel.DUE_SOON, ReminderLevel.ESCALATED)


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
    **{level: LevelRule(level, 0, frozenset({Audience.SUPERVISORS})) for level in SAME_DAY_LEVELS},
}


def reminder_rules_ensure_defaults() -> int:
    """Create the missing ReminderRule rows from DOMAIN.md's defaults, so admins see and edit them."""
    existing = set(ReminderRule.objects.values_list("level", flat=True))
    rows = [
        ReminderRule(
            level=rule.level,
            is_active=rule.is_active,
            days=rule.days,
            to_handlers=Audience.HANDLERS in rule.audiences,
            to_head=Audience.HEAD in rule.audiences,
            to_supervisors=Audience.SUPERVISORS in rule.audiences,
            to_leaders=Audience.LEADERS in rule.audiences,
        )
        for rule in DEFAULT_RULES.values()
        if rule.level not in existing
    ]
    ReminderRule.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def reminder_rules() -> dict[str, LevelRule]:
    """The policy in force: the admin's ReminderRule rows over DOMAIN.md's defaults."""
    rules = dict(DEFAULT_RULES)
    for row in ReminderRule.objects.all():
        try:
            # A row saved around the admin's validation (shell, bulk update) must not
            # corrupt the windows or stop every run: its level keeps the defaults.
            row.clean_fields()
            row.clean()
        except ValidationError as exc:
            log.error("Reminder rule %s is invalid, using the defaults for it: %s", row.level, exc)
            continue
        days = row.days if row.level in DAYS_LEVELS else DEFAULT_RULES[row.level].days
        rules[row.level] = LevelRule(row.level, days, row.audiences, row.is_active)
    return rules


@dataclasses.dataclass(frozen=True)
class Window:
    """Tasks whose date (deadline, or registration for same-day levels) is in [start, end) are at `level` today.

    `start` None means unbounded. `start_at`/`end_at`, when set, replace the start of the
    day `start`/`end` by a moment: the run's `now` for the hour deadlines of 紧急 tasks
    (level_windows).
    """

    level: str
    start: dt.date | None
    end: dt.date
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None

    def lower(self) -> dt.datetime | None:
        """The first moment in the window (None: unbounded)."""
        if self.start_at is not None:
            return self.start_at
        return start_of(self.start) if self.start is not None else None

    def upper(self) -> dt.datetime:
        """The first moment after the window."""
        return self.end_at if self.end_at is not None else start_of(self.end)

    def holds(self, moment: dt.datetime) -> bool:
        lower = self.lower()
        return (lower is None or lower <= moment) and moment < self.upper()

    @property
    def field(self) -> str:
        return "created_at" if self.level in SAME_DAY_LEVELS else "deadline"

    @property
    def states(self) -> tuple:
        return (SAME_DAY_LEVELS[self.level],) if self.level in SAME_DAY_LEVELS else HANDLING_STATES

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and day < self.end


def level_windows(*, today: dt.date, rules: dict[str, LevelRule], now: dt.datetime | None = None) -> list[Window]:
    """For each active level, the deadline dates that are at that level on `today` (a working day).

    With `now` (a moment of `today`), a deadline that passed earlier today is overdue at
    once instead of due today: the hour deadlines of 紧急 tasks (2 and 24 hours) are
    reminded as overdue when the overdue list shows them, not the next working day. A
    deadline counted in working days ends at 23:59:59, so this changes nothing for it.
    """
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
    passed = now if now is not None and local_date(now) == today else None
    windows = {
        ReminderLevel.DUE_SOON: Window(ReminderLevel.DUE_SOON, next_1, calendar.add_working_days(today, soon + 1)),
        ReminderLevel.DUE_TODAY: Window(ReminderLevel.DUE_TODAY, today, next_1, start_at=passed),
        ReminderLevel.OVERDUE: Window(ReminderLevel.OVERDUE, cut, today, end_at=passed),
        ReminderLevel.ESCALATED: Window(ReminderLevel.ESCALATED, None, cut),
    }
    # Same-day targets: registered on or before the previous working day, so its
    # registration working day (the first working day on or after it) has ended.
    ended = calendar.add_working_days(today, -1) + dt.timedelta(days=1)
    windows.update({level: Window(level, None, ended) for level in SAME_DAY_LEVELS})
    return [windows[level] for level in LEVEL_ORDER if rules[level].is_active]


def level_on(*, deadline: dt.datetime, today: dt.date, rules: dict[str, LevelRule] | None = None) -> str | None:
    """The reminder level a task with this deadline is at on `today`, or None."""
    return level_in(level_windows(today=today, rules=rules or reminder_rules()), deadline)


def level_in(windows: list[Window], deadline: dt.datetime) -> str | None:
    return next((w.level for w in windows if w.level in DEADLINE_LEVELS and w.holds(deadline)), None)


def registration_day_end(created_at: dt.datetime) -> dt.datetime:
    """The end of a task's registration working day: the same-day targets' deadline."""
    return calendar.end_of_day(calendar.add_working_days(local_date(created_at), 0))


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def local_date(moment: dt.datetime) -> dt.date:
    """The date in the project's time zone (TIME_ZONE), whatever time zone a request activated."""
    return timezone.localdate(moment, timezone.get_default_timezone())


def tasks_missed_same_day(*, user, now: dt.datetime):
    """Tasks still waiting to be reported, reviewed or assigned after their registration working day.

    The supervision office's list (当天上报、当天阅批、当天转办): supervisors, leaders and
    admins see it; anyone else gets an empty list. `missed` names the step it waits for.
    """
    if not user.sees_all_departments:
        return Task.objects.none()
    ended = calendar.add_working_days(local_date(now), -1) + dt.timedelta(days=1)
    missed = Case(
        *[When(state=state, then=Value(level.value)) for level, state in SAME_DAY_LEVELS.items()],
        output_field=CharField(),
    )
    rows = Task.objects.filter(state__in=SAME_DAY_LEVELS.values(), created_at__lt=start_of(ended))
    return rows.annotate(missed=missed).select_related("township").order_by("created_at", "pk")
