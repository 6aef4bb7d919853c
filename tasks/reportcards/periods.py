"""Report card periods: a year, quarter, month, day or custom date range, in local time.

A period is always whole local days (Asia/Shanghai, the project's TIME_ZONE): its
`start` is local midnight of the first day and its `end` local midnight after the last,
so [start, end) is half-open and a record at 00:00:00 on 1 October belongs to October.
Whole days let the daily rollups serve every period exactly.

Accepted texts (`parse_period`):
    2021                     the year
    2021-Q3  (2021q3)        a quarter
    2021-10  (2021-1)        a month
    2021-10-25               one day
    2021-10-01..2021-10-15   a custom range, both days included ("~" works too)
"""

from __future__ import annotations

import calendar as pycalendar
import dataclasses
import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from tasks.errors import DomainError

MIN_YEAR, MAX_YEAR = 2000, 2100
# A custom range longer than this is almost certainly a typo (and would make the
# working-day windows of the timeliness figures needlessly long).
MAX_CUSTOM_DAYS = 366 * 5

YEAR, QUARTER, MONTH, DAY, CUSTOM = "year", "quarter", "month", "day", "custom"

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RANGE = re.compile(r"^(\S+?)\s*(?:\.\.|~)\s*(\S+)$")


class PeriodError(DomainError):
    """A period text that cannot be read, or a range that makes no sense."""


def local_midnight(day: dt.date) -> dt.datetime:
    """Local (TIME_ZONE) midnight at the start of `day`, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


@dataclasses.dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last`, both included."""

    kind: str
    first: dt.date
    last: dt.date

    def __post_init__(self):
        if self.last < self.first:
            raise PeriodError(_("The period ends before it starts."))

    # --- Bounds --------------------------------------------------------------------

    @property
    def start(self) -> dt.datetime:
        """Local midnight of the first day (included)."""
        return local_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """Local midnight after the last day (excluded)."""
        return local_midnight(self.last + dt.timedelta(days=1))

    @property
    def end_date(self) -> dt.date:
        """The day after the last day: the exclusive end as a date."""
        return self.last + dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end

    # --- Names ---------------------------------------------------------------------

    @property
    def code(self) -> str:
        """The canonical text, which `parse_period` reads back (for URLs and the CLI)."""
        if self.kind == YEAR:
            return f"{self.first.year}"
        if self.kind == QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind == DAY:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        """The period as a reader says it, in the active language."""
        values = {"year": self.first.year, "month": self.first.month, "day": self.first.day}
        if self.kind == YEAR:
            return _("%(year)d") % values
        if self.kind == QUARTER:
            return _("Q%(quarter)d %(year)d") % {**values, "quarter": (self.first.month - 1) // 3 + 1}
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d") % values
        if self.kind == DAY:
            return _("%(year)d-%(month)02d-%(day)02d") % values
        return _("%(first)s to %(last)s") % {"first": self.first.isoformat(), "last": self.last.isoformat()}

    def __str__(self):
        return self.code

    # --- Neighbours and steps ------------------------------------------------------

    def previous(self) -> Period:
        """The period before this one: the previous year, quarter, month, day, or a range as long."""
        if self.kind == YEAR:
            return year(self.first.year - 1)
        if self.kind == QUARTER:
            q = (self.first.month - 1) // 3 + 1
            return quarter(self.first.year - 1, 4) if q == 1 else quarter(self.first.year, q - 1)
        if self.kind == MONTH:
            if self.first.month == 1:
                return month(self.first.year - 1, 12)
            return month(self.first.year, self.first.month - 1)
        if self.kind == DAY:
            return day(self.first - dt.timedelta(days=1))
        last = self.first - dt.timedelta(days=1)
        return custom(last - dt.timedelta(days=self.days - 1), last)

    def steps(self, step: str = MONTH) -> list[Period]:
        """The days, months, quarters or years of this period, the first and last clipped to it."""
        if step not in (DAY, MONTH, QUARTER, YEAR):
            raise PeriodError(_("Unknown trend step %(step)s: use day, month, quarter or year.") % {"step": step})
        result, cursor = [], self.first
        while cursor <= self.last:
            whole = containing(step, cursor)
            first, last = max(whole.first, self.first), min(whole.last, self.last)
            result.append(whole if (first, last) == (whole.first, whole.last) else custom(first, last))
            cursor = whole.last + dt.timedelta(days=1)
        return result


def _check_year(value: int) -> int:
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise PeriodError(
            _("The year %(year)d is outside %(min)d–%(max)d.") % {"year": value, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    return value


def year(value: int) -> Period:
    value = _check_year(value)
    return Period(YEAR, dt.date(value, 1, 1), dt.date(value, 12, 31))


def quarter(year_: int, q: int) -> Period:
    if not 1 <= q <= 4:
        raise PeriodError(_("There is no quarter %(quarter)d; quarters run from 1 to 4.") % {"quarter": q})
    first_month = 3 * (q - 1) + 1
    first = dt.date(_check_year(year_), first_month, 1)
    last = dt.date(year_, first_month + 2, pycalendar.monthrange(year_, first_month + 2)[1])
    return Period(QUARTER, first, last)


def month(year_: int, m: int) -> Period:
    if not 1 <= m <= 12:
        raise PeriodError(_("There is no month %(month)d; months run from 1 to 12.") % {"month": m})
    _check_year(year_)
    return Period(MONTH, dt.date(year_, m, 1), dt.date(year_, m, pycalendar.monthrange(year_, m)[1]))


def day(value: dt.date) -> Period:
    _check_year(value.year)
    return Period(DAY, value, value)


def custom(first: dt.date, last: dt.date) -> Period:
    _check_year(first.year)
    _check_year(last.year)
    period = Period(CUSTOM, first, last)
    if period.days > MAX_CUSTOM_DAYS:
        raise PeriodError(
            _("A custom period may span at most %(days)d days; this one spans %(count)d.")
            % {"days": MAX_CUSTOM_DAYS, "count": period.days}
        )
    return period


def containing(kind: str, when: dt.date) -> Period:
    """The whole day, month, quarter or year containing `when`."""
    if kind == DAY:
        return day(when)
    if kind == MONTH:
        return month(when.year, when.month)
    if kind == QUARTER:
        return quarter(when.year, (when.month - 1) // 3 + 1)
    return year(when.year)


def current(kind: str = MONTH, *, today: dt.date | None = None) -> Period:
    """The day, month, quarter or year containing today (local time)."""
    return containing(kind, today or timezone.localdate())


def _parse_date(text: str, whole: str) -> dt.date:
    match = _DAY.match(text)
    if not match:
        raise PeriodError(
            _("%(text)s is not a date such as 2021-10-25 (in the period %(period)s).") % {"text": text, "period": whole}
        )
    y, m, d = (int(g) for g in match.groups())
    _check_year(y)
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise PeriodError(_("%(text)s is not a real date.") % {"text": text}) from None


def parse_period(text: str) -> Period:
    """Read "2021", "2021-Q3", "2021-10", "2021-10-25" or "2021-10-01..2021-10-15" into a Period."""
    raw = (text or "").strip()
    if not raw:
        raise PeriodError(_("Give a period, such as 2021, 2021-Q3, 2021-10 or 2021-10-01..2021-10-15."))
    if match := _YEAR.match(raw):
        return year(int(match.group(1)))
    if match := _QUARTER.match(raw):
        return quarter(_check_year(int(match.group(1))), int(match.group(2)))
    if match := _MONTH.match(raw):
        return month(int(match.group(1)), int(match.group(2)))
    if _DAY.match(raw):
        return day(_parse_date(raw, raw))
    if match := _RANGE.match(raw):
        return custom(_parse_date(match.group(1), raw), _parse_date(match.group(2), raw))
    raise PeriodError(
        _("%(text)s is not a period: use 2021, 2021-Q3, 2021-10, 2021-10-25 or 2021-10-01..2021-10-15.")
        % {"text": raw}
    )
