"""Stage clocks: the acceptance and handling clocks of the department holding a task.

A department's clock starts when the task is assigned to it (Task.assigned_at, with the
deadlines of the rule table or the supervisor's own). It runs while the task is in
HANDLING_STATES and stops at the reply. Two side paths (DOMAIN.md, "Clocks"):

- an extension request (延期) does not stop it;
- a return request (退单) does: Task.clock_paused_at is set to the request's time and the
  task leaves HANDLING_STATES (it is "return requested"), so reminders, overdue lists
  and report cards, which all read state + deadline, leave it alone meanwhile.

The supervisor then decides:

- approved: the department's clock ends there; the task goes back to the dispatch queue
  without a deadline, and the next department gets a fresh clock from the rule table
  when it is assigned (tasks.services.task_assign resets the pause fields);
- refused: the clock resumes with the time that was left when the return was requested,
  by the rule of `resumed_deadline` below, applied to the handling deadline, to the
  acceptance deadline when the task had not been accepted yet, and to the sub-deadlines
  of assisting departments that have not replied. The pause is added to
  Task.paused_seconds.

The resume rule (`resumed_deadline(deadline, paused_at, resumed_at)`):

1. Nothing left (the deadline had already passed when the return was requested): the
   deadline stays; a return request cannot lift an overdue task out of being overdue.
2. A working-day deadline (the end of a day, 23:59:59 local time, as every deadline counted
   in working days is): the time left is N, the number of working days from the day of
   the request, that day included when it is a working day, to the deadline's day (at
   least 1, since some time was left). The new deadline is the end of the N-th working day
   counted the same way from the day of the decision, that day included when it is a
   working day. So what was left of the request day is given back as what is left of the
   decision day, and whole working days as whole working days, on the working-day
   calendar (weekends, holidays, 调休 and the admin's entries). Example: requested Tue
   14 Sep 2021 10:00 with the deadline Thu 16 Sep (N = 3: Tue, Wed, Thu), refused Fri
   24 Sep 10:00 → Fri 24, Sun 26 (a 调休 working day), Mon 27: due Mon 27 Sep 23:59:59.
3. Any other deadline (hours, for 紧急 items, or a time of day the supervisor chose): clock
   time, nights and holidays included, as the hour limits themselves are counted: the new
   deadline is the decision time plus (deadline − request time).

`summary(task, now)` is what the detail page shows: time used, time paused and time left.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from . import calendar
from .models import HANDLING_STATES, State, Task

_END_OF_DAY = dt.time(23, 59, 59)
_ONE_DAY = dt.timedelta(days=1)
# The department has answered: its clock stopped at the reply.
_ANSWERED_STATES = (State.REPLIED, State.CALLED_BACK, State.CLOSED)


def is_day_based(deadline: dt.datetime) -> bool:
    """A deadline counted in working days: the end of a day (23:59:59) in the project's time zone."""
    return timezone.localtime(deadline).time().replace(microsecond=0) == _END_OF_DAY


def working_days_left(deadline: dt.datetime, at: dt.datetime) -> int:
    """Working days from `at`'s day (included when it is a working day) to the deadline's day."""
    return calendar.working_days_between(timezone.localdate(at) - _ONE_DAY, timezone.localdate(deadline))


def resumed_deadline(deadline: dt.datetime, *, paused_at: dt.datetime, resumed_at: dt.datetime) -> dt.datetime:
    """The deadline after a pause from `paused_at` to `resumed_at`, keeping the time that was left."""
    if deadline <= paused_at:
        return deadline
    if is_day_based(deadline):
        left = max(working_days_left(deadline, paused_at), 1)
        day = calendar.add_working_days(timezone.localdate(resumed_at) - _ONE_DAY, left)
        return max(calendar.end_of_day(day), deadline)
    return max(resumed_at + (deadline - paused_at), deadline)


def pause_seconds(paused_at: dt.datetime, resumed_at: dt.datetime) -> int:
    """Whole seconds of one pause (never negative)."""
    return max(int((resumed_at - paused_at).total_seconds()), 0)


# --- The detail page -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Summary:
    """The handling clock of the department holding the task, as the detail page shows it."""

    status: str  # "running", "paused", "stopped" (replied) or "none" (no department's clock)
    started_at: dt.datetime | None
    deadline: dt.datetime | None
    used: dt.timedelta | None
    paused: dt.timedelta
    left: dt.timedelta | None  # negative: overdue by (or replied late by) that much
    working_days_left: int | None
    paused_at: dt.datetime | None
    rule: object  # DeadlineRule or None
    custom: bool  # the supervisor set the deadline
    # The limits recorded at the assignment (StageDeadlines.record()); None for older tasks.
    limits: dict | None = None
    # The acceptance clock while the task waits to be accepted: time left to accept (negative: late).
    accept_left: dt.timedelta | None = None

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left < dt.timedelta(0)

    @property
    def used_text(self) -> str:
        return format_duration(self.used) if self.used is not None else ""

    @property
    def paused_text(self) -> str:
        return format_duration(self.paused)

    @property
    def left_text(self) -> str:
        return format_duration(abs(self.left)) if self.left is not None else ""

    @property
    def accept_overdue(self) -> bool:
        return self.accept_left is not None and self.accept_left < dt.timedelta(0)

    @property
    def accept_left_text(self) -> str:
        return format_duration(abs(self.accept_left)) if self.accept_left is not None else ""

    @property
    def handle_limit_text(self) -> str:
        """The handling limit the task was given: "13 working days", "24 hours" (as at its assignment)."""
        from .models import LimitUnit

        if self.limits and self.limits.get("handle"):
            amount, unit = self.limits["handle"]
        elif self.rule is not None:
            amount, unit = self.rule.handle_amount, self.rule.handle_unit
        else:
            return ""
        return f"{amount} {LimitUnit(unit).label if unit in LimitUnit.values else unit}"

    @property
    def rule_channel(self) -> str:
        """The channel the rule was narrowed to ("" for any channel)."""
        if self.limits is not None:
            return self.limits.get("channel") or ""
        return self.rule.channel if self.rule is not None else ""

    @property
    def meter(self) -> tuple[int, int] | None:
        """(used, total) in minutes for a <meter>, or None without a deadline."""
        if self.used is None or self.left is None:
            return None
        used = max(int(self.used.total_seconds() // 60), 0)
        return used, max(used + int(self.left.total_seconds() // 60), used, 1)


def summary(task: Task, now: dt.datetime, *, assignment: dict | None = None) -> Summary:
    """Time used, time paused and time left on the task's handling clock at `now` (no query).

    `assignment` is the details of the task's latest assignment (or arbitration) entry on
    the timeline: the limits it recorded are shown, not the rule row as an admin may have
    edited it since; without it (older entries) the rule row is read.
    """
    paused = dt.timedelta(seconds=task.paused_seconds)
    recorded = (assignment or {}).get("deadline_limits")
    custom = assignment["custom_deadline"] if assignment and "custom_deadline" in assignment else (
        task.deadline_rule_id is None
    )
    common = {"rule": task.deadline_rule if task.deadline_rule_id else None, "custom": custom, "limits": recorded}
    if task.assigned_at is None or task.lead_department_id is None:
        return Summary("none", None, None, None, paused, None, None, None, **common)
    if task.state == State.RETURN_REQUESTED and task.clock_paused_at is not None:
        status, end = "paused", task.clock_paused_at
        paused += max(now - task.clock_paused_at, dt.timedelta(0))
    elif task.state in _ANSWERED_STATES and task.replied_at is not None:
        status, end = "stopped", task.replied_at
    elif task.state in HANDLING_STATES:
        status, end = "running", now
    else:
        return Summary("none", None, None, None, paused, None, None, None, **common)
    used = max(end - task.assigned_at - dt.timedelta(seconds=task.paused_seconds), dt.timedelta(0))
    left = task.deadline - end if task.deadline is not None else None
    days = None
    if status == "running" and task.deadline is not None and is_day_based(task.deadline) and left > dt.timedelta(0):
        days = working_days_left(task.deadline, end)
    # Not accepted yet (assigned, or paused before acceptance): the acceptance clock too, stopped with the other.
    if status in ("running", "paused") and task.accepted_at is None and task.accept_deadline is not None:
        common["accept_left"] = task.accept_deadline - end
    return Summary(status, task.assigned_at, task.deadline, used, paused, left, days, task.clock_paused_at, **common)


def format_duration(value: dt.timedelta) -> str:
    """"2 d 3 h", "5 h 20 min" or "12 min": short, and the same in every list."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}
