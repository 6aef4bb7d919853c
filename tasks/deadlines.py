"""Deadlines from the rule table (STUB: the calendar helper replaces this module).

Interface other modules rely on; keep the names and signatures.
"""

import dataclasses
import datetime as dt

from django.utils import timezone

from . import calendar


@dataclasses.dataclass(frozen=True)
class StageDeadlines:
    accept: dt.datetime
    handle: dt.datetime
    rule: object  # DeadlineRule or None when the built-in defaults were used


def stage_deadlines(*, category: str, urgency: str, channel: str, start: dt.datetime) -> StageDeadlines:
    """Acceptance and handling deadlines for a task assigned at `start`."""
    day = timezone.localdate(start)
    return StageDeadlines(
        accept=calendar.end_of_day(calendar.add_working_days(day, 1)),
        handle=calendar.end_of_day(calendar.add_working_days(day, 15)),
        rule=None,
    )


def deadline_in_working_days(*, start: dt.datetime, days: int) -> dt.datetime:
    """A supervisor's own deadline given as a number of working days from `start`."""
    return calendar.end_of_day(calendar.add_working_days(timezone.localdate(start), days))


def callback_deadline(*, category: str, urgency: str, channel: str, replied_at: dt.datetime) -> dt.datetime:
    """When the callback is due after a reply."""
    return calendar.end_of_day(calendar.add_working_days(timezone.localdate(replied_at), 2))


def assist_deadline(*, lead_deadline: dt.datetime) -> dt.datetime:
    """An assisting department's sub-deadline: two working days before the lead's."""
    return calendar.end_of_day(calendar.add_working_days(timezone.localdate(lead_deadline), -2))
