"""Working days (工作日) on the Chinese calendar.

Whether a date is a working day is decided by three sources, first match wins:

1. the admin's ``CalendarDay`` entries (so next year's official holiday notice can be
   typed in, and a wrong package entry corrected);
2. the ``chinese_calendar`` package (1.11 knows 2004–2026; it raises NotImplementedError
   for any other year, which is caught here: never a crash);
3. Monday to Friday working, Saturday and Sunday off.

Example, the 2021 National Day holiday (国务院办公厅 notice of 2020-11-25): Fri 1 Oct to
Thu 7 Oct off; Sun 26 Sep and Sat 9 Oct were adjusted working days (调休). So the first
working day after Thu 30 Sep 2021 is Fri 8 Oct, and the one after that is Sat 9 Oct.

Speed: the demo generator computes ~100,000 deadlines and a reminder run many more, so
nothing here queries per call. The working days of each year are built once into a sorted
list of ordinals and ``add_working_days`` is a binary search, not a day-by-day walk.

Cache of the admin's entries (one small query loads them all):

- the process that saves or deletes a ``CalendarDay`` drops its copy at once (signals);
- other processes (web workers, Celery workers, beat) learn of it through a version token
  in Django's cache, read at most every ``VERSION_CHECK_SECONDS`` (2 s). With Redis as the
  cache (production) an admin's edit reaches every process within seconds;
- and every process reloads at least every ``MAX_AGE_SECONDS`` (60 s) whatever the token
  says, because the embedded demo's cache is per-process local memory (the token never
  crosses processes there), a token may be evicted, and a signal does not fire for
  ``QuerySet.update()``/``bulk_create()`` or a transaction rolled back after the save.
  Reloading a table of a few dozen rows once a minute costs nothing; a stale calendar
  for more than a minute is never possible.

Code that writes ``CalendarDay`` rows in bulk should call ``invalidate_cache()`` after.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import threading
import time
import uuid

import chinese_calendar
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_KEY = "tasks.calendar.version"
VERSION_CHECK_SECONDS = 2.0
MAX_AGE_SECONDS = 60.0

# An official holiday notice always puts the statutory public holidays (11 days until
# 2024, 13 since 2025) on weekdays, moving those that fall on a weekend; every year the
# package knows has 16 to 23 weekdays off. Fewer weekday days off than this in a year's
# admin entries means the notice was not (fully) entered.
MIN_WEEKDAYS_OFF_FOR_A_YEAR = 11

# Years probed for the package's coverage (it has no public "which years" function).
_PROBE_YEARS = range(1990, 2101)


# --- The package, wrapped: static data, cached for the life of the process ----------


@functools.cache
def official_years() -> frozenset[int]:
    """Years the chinese-calendar package knows (2004–2026 for version 1.11)."""
    years = set()
    for year in _PROBE_YEARS:
        try:
            chinese_calendar.is_workday(dt.date(year, 1, 1))
        except NotImplementedError:
            continue
        years.add(year)
    return frozenset(years)


@functools.cache
def _official_working_ordinals(year: int) -> tuple[frozenset[int], bool]:
    """The working days of `year` by the package (else Mon–Fri), and whether the package knew it."""
    known = year in official_years()
    working = set()
    day = dt.date(year, 1, 1)
    one = dt.timedelta(days=1)
    while day.year == year:
        working_day = chinese_calendar.is_workday(day) if known else day.weekday() < 5
        if working_day:
            working.add(day.toordinal())
        if day == dt.date.max:
            break
        day += one
    return frozenset(working), known


def is_official_working_day(day: dt.date) -> bool:
    """The package's answer, or Mon–Fri for a year it does not know (admin entries ignored)."""
    return day.toordinal() in _official_working_ordinals(day.year)[0]


# --- The admin's entries, cached with version token and maximum age -----------------


class LocalCopy:
    """A process-local copy of a small table, kept fresh by a version token and a maximum age.

    `load()` builds the copy; `invalidate()` drops it (and by default bumps the token so
    other processes reload); `changed` is a signal receiver for the table's saves and deletes.
    """

    def __init__(self, version_key: str, load):
        self.version_key = version_key
        self._load = load
        self._lock = threading.Lock()
        self._value = None
        self._token = None
        self._loaded_at = 0.0
        self._checked_at = 0.0

    def _read_token(self):
        try:
            return cache.get(self.version_key)
        except Exception:  # a cache outage must not stop deadlines; the max age still bounds staleness
            logger.warning("cannot read the cache version token %s", self.version_key, exc_info=True)
            return None

    def get(self):
        """The copy, reloaded first if it was invalidated, outdated by another process, or too old."""
        value = self._value
        now = time.monotonic()
        if value is not None and now - self._loaded_at < MAX_AGE_SECONDS:
            if now - self._checked_at < VERSION_CHECK_SECONDS:
                return value
            self._checked_at = now
            if self._read_token() == self._token:
                return value
        with self._lock:
            if self._value is value or self._value is None:
                # Read the token before the rows: a change landing in between makes the
                # next check reload again, never keeps old rows under a new token.
                token = self._read_token()
                self._value = self._load()
                self._token = token
                self._loaded_at = self._checked_at = time.monotonic()
            return self._value

    def invalidate(self, *, everywhere: bool = True) -> None:
        """Forget the copy here, and (by default) tell other processes to reload theirs."""
        self._value = None
        if everywhere:
            try:
                cache.set(self.version_key, uuid.uuid4().hex, None)
            except Exception:
                logger.warning("cannot write the cache version token %s", self.version_key, exc_info=True)

    def changed(self, sender, **kwargs):
        # Drop our copy now (this request may compute a deadline next), and tell the other
        # processes only once the row is committed, or they could reload the old row.
        self.invalidate(everywhere=False)
        transaction.on_commit(self.invalidate)


class _Snapshot:
    """The admin's entries as loaded at one moment, and the working days derived from them."""

    def __init__(self, overrides: dict[dt.date, bool]):
        self.overrides = overrides
        self._years: dict[int, list[int]] = {}
        self._by_year: dict[int, dict[dt.date, bool]] = {}
        for day, working in overrides.items():
            self._by_year.setdefault(day.year, {})[day] = working

    def is_working_day(self, day: dt.date) -> bool:
        working = self.overrides.get(day)
        if working is not None:
            return working
        return is_official_working_day(day)

    def working_ordinals(self, year: int) -> list[int]:
        """The sorted ordinals of the working days of `year`."""
        ordinals = self._years.get(year)
        if ordinals is None:
            days = set(_official_working_ordinals(year)[0])
            for day, working in self._by_year.get(year, {}).items():
                if working:
                    days.add(day.toordinal())
                else:
                    days.discard(day.toordinal())
            ordinals = self._years[year] = sorted(days)
        return ordinals


def _load_snapshot() -> _Snapshot:
    from tasks.models import CalendarDay

    return _Snapshot(dict(CalendarDay.objects.values_list("date", "is_working_day")))


_entries = LocalCopy(VERSION_KEY, _load_snapshot)
_current = _entries.get


def invalidate_cache(*, everywhere: bool = True) -> None:
    """Forget the admin's calendar entries here, and (by default) in every other process too."""
    _entries.invalidate(everywhere=everywhere)


post_save.connect(_entries.changed, sender="tasks.CalendarDay", dispatch_uid="calendar_day_saved")
post_delete.connect(_entries.changed, sender="tasks.CalendarDay", dispatch_uid="calendar_day_deleted")


# --- The interface ------------------------------------------------------------------


def _as_date(day) -> dt.date:
    if isinstance(day, dt.datetime):
        if timezone.is_aware(day):
            return timezone.localtime(day, timezone.get_default_timezone()).date()
        return day.date()
    if isinstance(day, dt.date):
        return day
    raise TypeError(f"expected a date, got {type(day).__name__}: {day!r}")


def is_working_day(day: dt.date) -> bool:
    """True on a working day: admin entries first, then chinese-calendar, then Mon–Fri."""
    return _current().is_working_day(_as_date(day))


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (before it when n < 0); `start` itself never counts.

    n == 0 gives `start` if it is a working day, else the next working day. `start` may be
    any day, working or not: add_working_days(Sun, 1) is Monday, as is add_working_days(Fri, 1).
    """
    start = _as_date(start)
    snap = _current()
    year = start.year
    ordinals = snap.working_ordinals(year)
    if n == 0:
        if snap.is_working_day(start):
            return start
        n = 1
    if n > 0:
        i = bisect.bisect_right(ordinals, start.toordinal())
        left = n
        while left > len(ordinals) - i:
            left -= len(ordinals) - i
            year += 1
            if year > dt.MAXYEAR:
                raise ValueError(f"no {n}th working day after {start}")
            ordinals, i = snap.working_ordinals(year), 0
        return dt.date.fromordinal(ordinals[i + left - 1])
    i = bisect.bisect_left(ordinals, start.toordinal())
    left = -n
    while left > i:
        left -= i
        year -= 1
        if year < dt.MINYEAR:
            raise ValueError(f"no {-n}th working day before {start}")
        ordinals = snap.working_ordinals(year)
        i = len(ordinals)
    return dt.date.fromordinal(ordinals[i - left])


def next_working_day(day: dt.date) -> dt.date:
    """The first working day after `day` (whatever `day` is)."""
    return add_working_days(day, 1)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days d with a < d <= b; negative (counting b < d <= a) when b is before a.

    So add_working_days(a, working_days_between(a, b)) == b for a working day b, and a
    deadline day D is "3 working days overdue" on day T when working_days_between(D, T) == 3.
    """
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a)
    snap = _current()
    if a.year == b.year:
        ordinals = snap.working_ordinals(a.year)
        return bisect.bisect_right(ordinals, b.toordinal()) - bisect.bisect_right(ordinals, a.toordinal())
    first = snap.working_ordinals(a.year)
    total = len(first) - bisect.bisect_right(first, a.toordinal())
    for year in range(a.year + 1, b.year):
        total += len(snap.working_ordinals(year))
    return total + bisect.bisect_right(snap.working_ordinals(b.year), b.toordinal())


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of `day` (23:59:59) in the project's time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(_as_date(day), dt.time(23, 59, 59)), timezone.get_default_timezone())


def admin_weekdays_off(years) -> dict[int, int]:
    """For each year, how many Monday–Friday dates the admin's entries make days off."""
    counts = dict.fromkeys(years, 0)
    for day, working in _current().overrides.items():
        if day.year in counts and not working and day.weekday() < 5:
            counts[day.year] += 1
    return counts


def years_without_official_calendar(years=None) -> list[int]:
    """The years among `years` (default: this year and next) that lack an official calendar.

    A year has one when the chinese-calendar package knows it, or when the admin's entries
    make at least MIN_WEEKDAYS_OFF_FOR_A_YEAR (11, the statutory public holidays) weekdays
    days off in it: fewer means the year's holiday notice was not entered, or only in part.
    In such a year deadlines still work, on weekends plus whatever the admin entered.
    """
    if years is None:
        this_year = timezone.localdate().year
        years = [this_year, this_year + 1]
    years = sorted(set(years))
    known = official_years()
    entered = admin_weekdays_off([y for y in years if y not in known])
    return [y for y in years if y not in known and entered[y] < MIN_WEEKDAYS_OFF_FOR_A_YEAR]
