"""The counters of definitions.py counted live in the database: one aggregate query per family.

Each query counts all counters of its family at once (`Count(filter=...)`), optionally
grouped by department or township and bucketed by day, month, quarter or year. The
number of queries never depends on the number of rows, units or buckets.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, DateField, F
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone

from .definitions import DATED_FAMILIES, Family
from .scopes import GROUP_PATHS, Scope

Key = tuple  # (unit id or None, bucket date or None)


def _aggregates(family: Family, first: dt.date, last: dt.date) -> dict:
    result = {}
    for counter in family.counters:
        condition = family.condition(counter, first, last)
        result[counter] = Count("pk", filter=condition) if condition is not None else Count("pk")
    return result


def bucket_expression(field: str, step: str):
    """The local day, month, quarter or year of `field`, as a date."""
    tz = timezone.get_default_timezone()
    if step == "day":
        return TruncDate(field, tzinfo=tz)
    return Trunc(field, step, output_field=DateField(), tzinfo=tz)


def family_queryset(family: Family, *, scope: Scope | None, first: dt.date | None, end: dt.date | None, now=None):
    """The rows of `family` in scope whose date falls in the local days [first, end)."""
    rows = family.model.objects.filter(family.where(now))
    if scope is not None:
        rows = rows.filter(scope.filter_for(family.record))
    if first is not None:
        rows = rows.filter(family.in_period(first, end))
    return rows


def count_family(
    family: Family,
    *,
    scope: Scope | None,
    first: dt.date | None,
    end: dt.date | None,
    group: str | None = None,
    bucket: str | None = None,
    now: dt.datetime | None = None,
    window: tuple[dt.date, dt.date] | None = None,
) -> dict[Key, dict[str, int]]:
    """One query: the family's counters in scope and period, by (unit id, bucket).

    `window` gives the first and last local dates the family's events may fall on, for
    the working-day test; by default the period's.
    """
    rows = family_queryset(family, scope=scope, first=first, end=end, now=now).order_by()
    if window is None:
        window = (first, end - dt.timedelta(days=1)) if first is not None else (None, None)
    aggregates = _aggregates(family, *window)
    keys = {}
    if group is not None:
        keys["unit"] = F(f"{GROUP_PATHS[group][family.record]}_id")
    if bucket is not None:
        keys["bucket"] = bucket_expression(family.date_field, bucket)
    if not keys:
        return {(None, None): rows.aggregate(**aggregates)}
    result = {}
    for row in rows.annotate(**keys).values(*keys).annotate(**aggregates):
        result[(row.get("unit"), row.get("bucket"))] = {counter: row[counter] for counter in family.counters}
    return result


def count_dated(
    *,
    scope: Scope | None,
    first: dt.date,
    end: dt.date,
    group: str | None = None,
    bucket: str | None = None,
) -> dict[Key, dict[str, int]]:
    """All period-bound counters (five queries), merged by (unit id, bucket); missing counters are 0."""
    merged: dict[Key, dict[str, int]] = defaultdict(dict)
    for family in DATED_FAMILIES:
        counted = count_family(family, scope=scope, first=first, end=end, group=group, bucket=bucket)
        for key, counters in counted.items():
            merged[key].update(counters)
    return merged
