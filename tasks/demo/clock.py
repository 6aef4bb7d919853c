"""Working time for the generator: instants as minutes of office hours, and cached deadlines.

An instant is an integer `w`: the working-day index times 540 plus the minute after 08:30
(office hours 08:30–17:30). Increasing `w` is increasing time, and every `w` falls on a
working day of the calendar (tasks.calendar, so 调休 Saturdays count and holidays do not).

Deadlines come from tasks.deadlines, exactly as the services compute them, but cached: a
working-day rule gives the same deadline for any start on the same date, and the generator
asks ~150,000 times. A key whose answer changes within a day (an hour rule) is not cached.
"""

import bisect
import datetime as dt
import zoneinfo

from django.conf import settings

from tasks import calendar, deadlines
from tasks.services._base import assist_deadline_for

from .fastinsert import datetime_adapter

MINUTES = 540  # 08:30–17:30
_OPEN = dt.time(8, 30)


class Clock:
    def __init__(self, first: dt.date, last: dt.date):
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        days, day = [], first
        while day <= last:
            if calendar.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        self.days = days
        self.ordinals = [d.toordinal() for d in days]
        self.index = {d: i for i, d in enumerate(days)}
        self.opens = [dt.datetime.combine(d, _OPEN, tzinfo=self.tz) for d in days]
        self._db: dict = {}
        self._adapt = None

    def at(self, w: int) -> dt.datetime:
        """The aware local datetime of instant `w`."""
        return self.opens[w // MINUTES] + dt.timedelta(minutes=w % MINUTES)

    def db_at(self, w: int):
        """Instant `w` as the database driver takes it, cached (timeline rows share instants)."""
        value = self._db.get(w)
        if value is None:
            if self._adapt is None:
                self._adapt = datetime_adapter()
            value = self._db[w] = self._adapt(self.at(w))
        return value

    def day(self, w: int) -> dt.date:
        return self.days[w // MINUTES]

    def day_index(self, day: dt.date) -> int:
        """The index of `day`, or of the first working day after it."""
        return bisect.bisect_left(self.ordinals, day.toordinal())

    def start_of(self, index: int) -> int:
        return index * MINUTES

    def end_of(self, index: int) -> int:
        return index * MINUTES + MINUTES - 1

    def floor(self, when: dt.datetime) -> int:
        """The last instant at or before `when` (for deadlines: the last office minute in time)."""
        local = when.astimezone(self.tz)
        index = self.index.get(local.date())
        if index is not None:
            minute = (local.hour * 60 + local.minute) - (8 * 60 + 30)
            if minute >= 0:
                return index * MINUTES + min(minute, MINUTES - 1)
        # Before office hours or on a day off: the end of the previous working day.
        return self.end_of(bisect.bisect_left(self.ordinals, local.date().toordinal()) - 1)

    def ceil(self, when: dt.datetime) -> int:
        """The first instant at or after `when` (a call received at night is handled next morning)."""
        local = when.astimezone(self.tz)
        index = self.index.get(local.date())
        if index is not None:
            minute = (local.hour * 60 + local.minute) - (8 * 60 + 30) + (1 if local.second else 0)
            if minute < MINUTES:
                return index * MINUTES + max(minute, 0)
            return self.start_of(index + 1)
        return self.start_of(bisect.bisect_right(self.ordinals, local.date().toordinal()))


class Deadlines:
    """tasks.deadlines, cached per (category, urgency, channel, date) where the answer allows it."""

    def __init__(self, clock: Clock):
        from tasks.models import DeadlineRule

        self.clock = clock
        # A channel without a rule of its own follows the general rule: one cache entry for all such.
        self._own_rules = set(DeadlineRule.objects.exclude(channel="").values_list("category", "urgency", "channel"))
        self._stages: dict = {}
        self._callback: dict = {}
        self._days: dict = {}

    def _cached(self, cache: dict, key, w: int, compute):
        hit = cache.get(key)
        if hit is None:
            index = w // MINUTES
            first, last = compute(self.clock.at(self.clock.start_of(index))), compute(
                self.clock.at(self.clock.end_of(index))
            )
            # An hour rule moves with the start time: compute each time for that key.
            hit = cache[key] = first if first == last else False
        return hit if hit is not False else compute(self.clock.at(w))

    def _scope(self, category, urgency, channel) -> str:
        return channel if (category, urgency, channel) in self._own_rules else ""

    def stages(self, category: str, urgency: str, channel: str, w: int) -> deadlines.StageDeadlines:
        """Acceptance and handling deadlines (and the rule) for a task assigned at `w`."""
        return self._cached(
            self._stages, (category, urgency, self._scope(category, urgency, channel), w // MINUTES), w,
            lambda start: deadlines.stage_deadlines(category=category, urgency=urgency, channel=channel, start=start),
        )

    def callback(self, category: str, urgency: str, channel: str, w: int) -> dt.datetime:
        """When the callback is due after a reply at `w`."""
        return self._cached(
            self._callback, (category, urgency, self._scope(category, urgency, channel), w // MINUTES), w,
            lambda at: deadlines.callback_deadline(category=category, urgency=urgency, channel=channel, replied_at=at),
        )

    def in_working_days(self, w: int, days: int) -> dt.datetime:
        """A supervisor's own deadline: `days` working days from `w`."""
        key = (w // MINUTES, days)
        hit = self._days.get(key)
        if hit is None:
            hit = self._days[key] = deadlines.deadline_in_working_days(start=self.clock.at(w), days=days)
        return hit

    def assist(self, lead_deadline: dt.datetime, w: int) -> dt.datetime:
        """An assisting department's sub-deadline, by the very helper tasks.services uses (a few thousand calls)."""
        return assist_deadline_for(lead_deadline, now=self.clock.at(w))
