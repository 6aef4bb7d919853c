"""Deadlines from the rule table (DeadlineRule) and the working-day calendar.

What "N working days" means (the rule of 民法典 art. 201: the day a period starts is not
counted): the deadline is the end (23:59:59, Asia/Shanghai) of the N-th working day
*after* the day of the start, whatever the start day is. So for 1 working day:

- assigned Tue 10:00 → due Wed 23:59:59;
- assigned Fri 16:00 → due Mon 23:59:59 (unless Monday is a holiday);
- assigned Sat, Sun or on a holiday → due at the end of the first working day after it,
  the same as for something assigned on the last working day before it;
- assigned Thu 30 Sep 2021 → due Fri 8 Oct 2021 (1–7 Oct off); assigned Fri 8 Oct 2021
  → due Sat 9 Oct 2021, an adjusted working Saturday (调休).

Hour limits (紧急 items) are clock hours from the start, nights and holidays included:
2 hours for acceptance and 24 hours for handling.

A rule narrowed to a channel wins over the general rule (blank channel) of the same
category and urgency. With no matching row the built-in defaults of DOMAIN.md apply and
`rule` is None. Rules are cached in memory like the calendar (tasks.calendar.LocalCopy):
the demo generator computes ~100,000 deadlines and must not query once for each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from feedback.models import Category, Channel, Urgency

from . import calendar


@dataclasses.dataclass(frozen=True)
class Limits:
    """The three limits of a rule, each an (amount, unit) pair; unit is a LimitUnit value."""

    accept: tuple[int, str]
    handle: tuple[int, str]
    callback: tuple[int, str]


WD = "working_days"  # LimitUnit.WORKING_DAYS, spelled out so this module imports no models
HOURS = "hours"

# DOMAIN.md's defaults. Any 紧急 item: 2 hours, 24 hours, callback 1 working day.
DEFAULT_RULES: dict[tuple[str, str], Limits] = {
    (Category.CONSULTATION, Urgency.NORMAL): Limits((1, WD), (3, WD), (2, WD)),
    (Category.HELP, Urgency.NORMAL): Limits((1, WD), (5, WD), (2, WD)),
    (Category.COMPLAINT, Urgency.NORMAL): Limits((1, WD), (13, WD), (2, WD)),
    (Category.SUGGESTION, Urgency.NORMAL): Limits((1, WD), (15, WD), (2, WD)),
    (Category.WRONGDOING, Urgency.NORMAL): Limits((1, WD), (15, WD), (2, WD)),
    **{(category, Urgency.URGENT): Limits((2, HOURS), (24, HOURS), (1, WD)) for category in Category.values},
}

# An assisting department (协办) has to reply this many working days before the lead.
ASSIST_LEAD_WORKING_DAYS = 2


@dataclasses.dataclass(frozen=True)
class StageDeadlines:
    accept: dt.datetime
    handle: dt.datetime
    rule: object  # DeadlineRule or None when the built-in defaults were used
    limits: Limits | None = None  # the limits as they were when counted (the rule row may be edited later)

    def record(self) -> dict:
        """The limits used, for the assignment's timeline entry: what the task was given, whatever the rule becomes."""
        limits = self.limits
        return {
            "channel": self.rule.channel if self.rule is not None else "",
            "default": self.rule is None,
            **({stage: list(getattr(limits, stage)) for stage in ("accept", "handle", "callback")} if limits else {}),
        }


def ensure_default_rules() -> int:
    """Create the default rule rows that are missing (general, any channel); returns how many."""
    from tasks.models import DeadlineRule

    existing = set(DeadlineRule.objects.filter(channel="").values_list("category", "urgency"))
    missing = [
        DeadlineRule(
            category=category,
            urgency=urgency,
            channel="",
            accept_amount=limits.accept[0],
            accept_unit=limits.accept[1],
            handle_amount=limits.handle[0],
            handle_unit=limits.handle[1],
            callback_amount=limits.callback[0],
            callback_unit=limits.callback[1],
        )
        for (category, urgency), limits in DEFAULT_RULES.items()
        if (category, urgency) not in existing
    ]
    if missing:
        with transaction.atomic():
            # ignore_conflicts: two processes starting at once (web and worker) both insert.
            DeadlineRule.objects.bulk_create(missing, ignore_conflicts=True)
        # bulk_create sends no post_save signal.
        _rules.invalidate()
    return len(missing)


def _load_rules() -> dict:
    from tasks.models import DeadlineRule

    return {(r.category, r.urgency, r.channel): r for r in DeadlineRule.objects.all()}


_rules = calendar.LocalCopy("tasks.deadlines.rules.version", _load_rules)
post_save.connect(_rules.changed, sender="tasks.DeadlineRule", dispatch_uid="deadline_rule_saved")
post_delete.connect(_rules.changed, sender="tasks.DeadlineRule", dispatch_uid="deadline_rule_deleted")


def invalidate_rule_cache(*, everywhere: bool = True) -> None:
    """Forget the cached rule table (call after writing rules in bulk)."""
    _rules.invalidate(everywhere=everywhere)


# TextChoices.values is rebuilt on every access; this module is on a hot path.
_CATEGORIES = frozenset(Category.values)
_URGENCIES = frozenset(Urgency.values)
_CHANNELS = frozenset(Channel.values)


def _check(category: str, urgency: str, channel: str) -> None:
    if category not in _CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(Category.values)}")
    if urgency not in _URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}; expected one of {', '.join(Urgency.values)}")
    if channel and channel not in _CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(Channel.values)}")


def find_rule(*, category: str, urgency: str, channel: str = ""):
    """The DeadlineRule for this scope: the channel's own rule, else the general one, else None."""
    _check(category, urgency, channel)
    rules = _rules.get()
    return rules.get((category, urgency, channel or "")) or rules.get((category, urgency, ""))


def limits_for(*, category: str, urgency: str, channel: str = "") -> tuple[Limits, object]:
    """The limits that apply and the rule they come from (None: the built-in defaults)."""
    rule = find_rule(category=category, urgency=urgency, channel=channel)
    if rule is None:
        return DEFAULT_RULES[(category, urgency)], None
    return (
        Limits(
            (rule.accept_amount, rule.accept_unit),
            (rule.handle_amount, rule.handle_unit),
            (rule.callback_amount, rule.callback_unit),
        ),
        rule,
    )


def _after(start: dt.datetime, limit: tuple[int, str]) -> dt.datetime:
    amount, unit = limit
    if unit == HOURS:
        return start + dt.timedelta(hours=amount)
    if unit == WD:
        return calendar.end_of_day(calendar.add_working_days(start, amount))
    raise ValueError(f"unknown limit unit {unit!r}; expected {WD!r} or {HOURS!r}")


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value


def stage_deadlines(*, category: str, urgency: str, channel: str, start: dt.datetime) -> StageDeadlines:
    """Acceptance and handling deadlines for a task assigned at `start`, and the rule used."""
    limits, rule = limits_for(category=category, urgency=urgency, channel=channel)
    start = _aware(start, "start")
    return StageDeadlines(
        accept=_after(start, limits.accept), handle=_after(start, limits.handle), rule=rule, limits=limits
    )


def callback_deadline(*, category: str, urgency: str, channel: str, replied_at: dt.datetime) -> dt.datetime:
    """When the callback (回访) is due after a reply: the rule's callback limit from the reply."""
    limits, _rule = limits_for(category=category, urgency=urgency, channel=channel)
    return _after(_aware(replied_at, "replied_at"), limits.callback)


def deadline_in_working_days(*, start: dt.datetime, days: int) -> dt.datetime:
    """A supervisor's own deadline given as a number of working days from `start`."""
    if days < 1:
        raise ValueError(f"a deadline needs at least 1 working day, got {days}")
    return _after(_aware(start, "start"), (days, WD))


def deadline_from_date(day: dt.date) -> dt.datetime:
    """A deadline given as a date (a supervisor's choice, an import's 办理时限): the end of that day."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a date, got {type(day).__name__}: {day!r}")
    return calendar.end_of_day(day)


def assist_deadline(*, lead_deadline: dt.datetime, start: dt.datetime | None = None) -> dt.datetime:
    """An assisting department's sub-deadline: the end of the 2nd working day before the lead's day.

    With `start` (the assignment time) given, a sub-deadline that would fall before the
    start of the next working day (short or hour-based lead deadlines) becomes the lead's
    own deadline: an assisting department cannot be due before it could begin.
    """
    lead_deadline = _aware(lead_deadline, "lead_deadline")
    day = calendar.add_working_days(lead_deadline, -ASSIST_LEAD_WORKING_DAYS)
    deadline = calendar.end_of_day(day)
    if start is not None and day < calendar.add_working_days(_aware(start, "start"), 1):
        return lead_deadline
    return min(deadline, lead_deadline)
