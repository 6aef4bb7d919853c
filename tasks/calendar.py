"""Working days on the Chinese calendar (STUB: the calendar helper replaces this module).

Interface other modules rely on; keep the names and signatures.
"""

import datetime as dt

from django.utils import timezone


def is_working_day(day: dt.date) -> bool:
    """True on a working day: admin entries first, then chinese-calendar, then Mon–Fri."""
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (n >= 1); n == 0 gives `start` itself if working, else the next."""
    day = start
    if n == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
        return day
    step = 1 if n > 0 else -1
    left = abs(n)
    while left:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of `day` in the local time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
