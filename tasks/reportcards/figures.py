"""The report card figures for a scope and period, by unit, over time, and compared.

Every function takes `source`: LIVE counts the records now; ROLLUP sums the daily rollups
(as of their last rebuild); AUTO (the default) uses the rollups while they are at most
rollups.MAX_STALENESS old and counts live otherwise. A card says which it used and its
"as of" moment. "Overdue" is always counted live at `now`.

Query counts, constant whatever the rows, units or steps (tests/tasks/test_reportcard_rollups.py):
a card is 4 from the rollups (refresh row, one sum, overdue, assisting parts overdue) or
9 live (seven dated families and the two "now" ones), 10 under AUTO when it falls back to
live; by department or township one more (the list of units); a trend 2 or 7 (no "now"
figures); a comparison the card, the previous
period's (without overdue) and the units' average.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, Township
from tasks.errors import DomainError

from . import periods as periods_
from .counting import count_dated, count_family
from .definitions import COUNT, DATED_COUNTERS, FIGURE_CODES, FIGURES, NOW_FAMILIES
from .periods import Period
from .rollups import fresh_refresh, latest_refresh, rollup_counters
from .scopes import CITY, DEPARTMENT, TOWNSHIP, Scope, city, for_department, for_township

LIVE, ROLLUP, AUTO = "live", "rollup", "auto"


@dataclasses.dataclass(frozen=True)
class Rate:
    """A share: "57,012 / 61,000 (93.5%)"; `rate` is None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else 100.0 * self.rate


@dataclasses.dataclass
class Card:
    """The figures of one scope and period.

    `units` > 1 makes it an average over that many departments or townships: counts are
    divided by it, rates stay the pooled share of all their records.
    """

    scope: Scope
    period: Period
    counters: dict[str, int]
    overdue: int | None
    as_of: dt.datetime
    source: str
    units: int = 1
    # Overdue tasks left out by approved score exclusions (核减), counted with `overdue`.
    overdue_excluded: int | None = None

    def __getitem__(self, code: str):
        figure = FIGURES[code]
        if figure.kind == COUNT:
            # A "now" figure other than overdue is missing (None) from previous periods and trends.
            value = self.overdue if code == "overdue" else self.counters.get(figure.numerator)
            if value is None or self.units == 1:
                return value
            return value / self.units if self.units else None
        return Rate(self.counters[figure.numerator], self.counters[figure.denominator])

    def excluded(self, code: str) -> int | None:
        """How many records score exclusions (核减) took out of a figure (of a rate's denominator); None if none can."""
        figure = FIGURES[code]
        if not figure.excludable:
            return None
        if code == "overdue":
            return self.overdue_excluded
        return self.counters[figure.family.excluded_counter]

    @property
    def figures(self) -> dict:
        """Code name → count (int) or Rate, in DOMAIN.md's order."""
        return {code: self[code] for code in FIGURE_CODES}

    def as_dict(self) -> dict:
        """JSON-ready: the code names with numbers (rates as fractions), plus scope, period and details."""
        data = {
            "scope": self.scope.as_dict(),
            "period": {
                "code": self.period.code,
                "kind": self.period.kind,
                "first": self.period.first.isoformat(),
                "last": self.period.last.isoformat(),
                "label": self.period.label,
            },
            "as_of": timezone.localtime(self.as_of).isoformat(),
            "source": self.source,
        }
        if self.units != 1:
            data["averaged_over"] = self.units
        details = {}
        for code, value in self.figures.items():
            if isinstance(value, Rate):
                data[code] = None if value.rate is None else round(value.rate, 6)
                details[code] = {"numerator": value.numerator, "denominator": value.denominator}
            else:
                data[code] = value
            excluded = self.excluded(code)
            if excluded:
                details.setdefault(code, {})["excluded"] = excluded
        data["details"] = details
        return data


def _resolve_source(source):
    """(LIVE or ROLLUP, the refresh row or None) for the requested source."""
    if isinstance(source, tuple):  # already resolved by the caller
        return source
    if source == LIVE:
        return LIVE, None
    if source == ROLLUP:
        refresh = latest_refresh()
        if refresh is None:
            raise DomainError(
                _("The report card figures have not been pre-aggregated yet; count them live or refresh them first.")
            )
        return ROLLUP, refresh
    if source != AUTO:
        raise ValueError(f"unknown source {source!r}")
    refresh = fresh_refresh()
    return (ROLLUP, refresh) if refresh is not None else (LIVE, None)


def _dated(scope: Scope | None, period: Period, source: str, *, grain: str, group=False, bucket=None) -> dict:
    if source == ROLLUP:
        unit_id = scope.unit_id if scope is not None else None
        return rollup_counters(
            grain, first=period.first, end=period.end_date, unit_id=unit_id, group=group, bucket=bucket
        )
    return count_dated(
        scope=scope, first=period.first, end=period.end_date, group=grain if group else None, bucket=bucket
    )


def _zero() -> dict[str, int]:
    return dict.fromkeys(DATED_COUNTERS, 0)


def _filled(counters: dict | None) -> dict[str, int]:
    return {**_zero(), **(counters or {})}


def _zero_now() -> dict[str, int]:
    return {counter: 0 for family in NOW_FAMILIES for counter in family.all_counters}


def _overdue(scope: Scope | None, *, now, group: str | None = None) -> dict:
    """The "now" counters (overdue tasks, overdue assisting parts) by (unit id, bucket); one query per family."""
    merged: dict = {}
    for family in NOW_FAMILIES:
        for key, counters in count_family(family, scope=scope, first=None, end=None, group=group, now=now).items():
            merged.setdefault(key, {}).update(counters)
    return merged


def _now_counters(counters: dict) -> dict:
    """The "now" counters a card keeps beside its period's (overdue has its own fields)."""
    return {name: value for name, value in counters.items() if not name.startswith("overdue")}


def report_card(scope: Scope, period: Period, *, now: dt.datetime | None = None, source: str = AUTO) -> Card:
    """The nine figures of one scope (city, department or township) for one period."""
    return _card(scope, period, now=now or timezone.now(), source=source)


def _card(scope: Scope, period: Period, *, now, source, with_overdue: bool = True) -> Card:
    used, refresh = _resolve_source(source)
    counters = _dated(scope, period, used, grain=scope.kind).get((None, None))
    overdue = _overdue(scope, now=now).get((None, None), {}) if with_overdue else {}
    as_of = refresh.as_of if refresh is not None else timezone.now()
    return Card(
        scope, period, {**_filled(counters), **_now_counters(overdue)}, overdue.get("overdue"), as_of, used,
        overdue_excluded=overdue.get("overdue_excluded"),
    )


def _units(kind: str, seen: set) -> list:
    if kind == DEPARTMENT:
        # Every department that handles tasks; an inactive one only if it has figures.
        departments = Department.objects.exclude(kind=Department.Kind.SUPERVISION)
        return [d for d in departments if d.is_active or d.pk in seen]
    return list(Township.objects.all())


def _by_unit(kind: str, period: Period, *, now, source: str) -> list[Card]:
    used, refresh = _resolve_source(source)
    grouped = _dated(None, period, used, grain=kind, group=True)
    overdue = _overdue(None, now=now, group=kind)
    as_of = refresh.as_of if refresh is not None else timezone.now()
    seen = {unit for unit, _bucket in grouped} | {unit for unit, _bucket in overdue}
    scope_of = for_department if kind == DEPARTMENT else for_township
    return [
        Card(
            scope_of(unit),
            period,
            {**_filled(grouped.get((unit.pk, None))), **_now_counters(_zero_now() | overdue.get((unit.pk, None), {}))},
            overdue.get((unit.pk, None), {}).get("overdue", 0),
            as_of,
            used,
            overdue_excluded=overdue.get((unit.pk, None), {}).get("overdue_excluded", 0),
        )
        for unit in _units(kind, seen)
    ]


def figures_by_department(period: Period, *, now: dt.datetime | None = None, source: str = AUTO) -> list[Card]:
    """One card per department that handles tasks (in the departments' order), from one grouped query per family."""
    return _by_unit(DEPARTMENT, period, now=now or timezone.now(), source=source)


def figures_by_township(period: Period, *, now: dt.datetime | None = None, source: str = AUTO) -> list[Card]:
    """One card per township (in the townships' order), from one grouped query per family."""
    return _by_unit(TOWNSHIP, period, now=now or timezone.now(), source=source)


def ranked(cards: list[Card], code: str, *, descending: bool = True) -> list[Card]:
    """The cards ordered by one figure (rates by their share); cards without a value last."""

    def value(card):
        figure = card[code]
        return figure.rate if isinstance(figure, Rate) else figure

    with_value = [card for card in cards if value(card) is not None]
    without = [card for card in cards if value(card) is None]
    return sorted(with_value, key=value, reverse=descending) + without


def figures_trend(scope: Scope, period: Period, step: str = periods_.MONTH, *, source: str = AUTO) -> list[Card]:
    """The period's figures per day, month, quarter or year (clipped to the period); overdue is None in each."""
    steps = period.steps(step)
    used, refresh = _resolve_source(source)
    buckets = _dated(scope, period, used, grain=scope.kind, bucket=step)
    as_of = refresh.as_of if refresh is not None else timezone.now()
    cards = []
    for part in steps:
        # Buckets are keyed by the start of the whole step; the first and last may be clipped.
        key = (None, periods_.containing(step, part.first).first)
        cards.append(Card(scope, part, _filled(buckets.get(key)), None, as_of, used))
    return cards


def units_average(kind: str, period: Period, *, now: dt.datetime | None = None, source: str = AUTO) -> Card:
    """The average department (or township): counts per unit, rates pooled over all their records."""
    cards = _by_unit(kind, period, now=now or timezone.now(), source=source)
    totals = _zero()
    for card in cards:
        for counter, value in card.counters.items():
            totals[counter] = totals.get(counter, 0) + value
    overdue = sum(card.overdue for card in cards)
    overdue_excluded = sum(card.overdue_excluded or 0 for card in cards)
    first = cards[0] if cards else None
    return Card(
        city(),
        period,
        totals,
        overdue,
        first.as_of if first else timezone.now(),
        first.source if first else LIVE,
        units=len(cards),
        overdue_excluded=overdue_excluded,
    )


@dataclasses.dataclass
class Comparison:
    """A card, the same scope's previous period, and the average unit of its kind (None for the city)."""

    current: Card
    previous: Card
    average: Card | None

    def change(self, code: str) -> float | None:
        """Current minus previous: a count difference, or a rate difference in percentage points."""
        now_value, before = self.current[code], self.previous[code]
        if isinstance(now_value, Rate):
            if now_value.percent is None or before.percent is None:
                return None
            return now_value.percent - before.percent
        if now_value is None or before is None:
            return None
        return now_value - before


def report_card_compared(
    scope: Scope, period: Period, *, now: dt.datetime | None = None, source: str = AUTO
) -> Comparison:
    """A card with the previous period's and, for a department or township, the average unit's figures."""
    now = now or timezone.now()
    source = _resolve_source(source)
    current = _card(scope, period, now=now, source=source)
    # Overdue is "now": the previous period has no overdue figure of its own.
    previous = _card(scope, period.previous(), now=now, source=source, with_overdue=False)
    average = None if scope.kind == CITY else units_average(scope.kind, period, now=now, source=source)
    return Comparison(current, previous, average)


__all__ = [
    "AUTO",
    "Card",
    "Comparison",
    "LIVE",
    "ROLLUP",
    "Rate",
    "figures_by_department",
    "figures_by_township",
    "figures_trend",
    "ranked",
    "report_card",
    "report_card_compared",
    "units_average",
]
