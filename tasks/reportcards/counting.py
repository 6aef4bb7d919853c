"""The counters of definitions.py counted live in the database: one aggregate query per family.

Each query counts all counters of its family at once (`Count(filter=...)`), optionally
grouped by department or township and bucketed by day, month, quarter or year. The
number of queries never depends on the number of rows, units or buckets.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.db.models import Count, DateField, F
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone

from .definitions import DATED_FAMILIES, Bucket, Family
from .periods import containing, local_midnight
from .scopes import GROUP_PATHS, Scope

Key = tuple  # (unit id or None, bucket date or None)


def count_expressions(family: Family, first: dt.date, last: dt.date) -> dict:
    """Counter name → Count expression, for events between the local dates `first` and `last`."""
    result = {}
    for counter in family.all_counters:
        condition = family.condition(counter, first, last)
        # COUNT(*), not COUNT(id), where Django allows it: an index holding the columns of
        # the WHERE clause (overdue: state, deadline) then answers without the table.
        result[counter] = Count("pk", filter=condition) if condition is not None else Count("*")
    return result


def bucket_expression(field: str, step: str, first: dt.date, end: dt.date):
    """(expression, to_date): the local day, month, quarter or year of `field`, for rows in [first, end).

    On PostgreSQL the step starts go in as one array and width_bucket() numbers the rows'
    steps (a binary search; AT TIME ZONE per row costs more, bench/README.md); `to_date`
    turns the number back into the step's first day. Elsewhere Trunc in the local zone.
    """
    if connection.vendor == "postgresql":
        starts, cursor = [], containing(step, first).first
        while cursor < end:
            starts.append(cursor)
            cursor = containing(step, cursor).last + dt.timedelta(days=1)
        return Bucket(F(field), [local_midnight(start) for start in starts]), lambda number: starts[number - 1]
    tz = timezone.get_default_timezone()
    if step == "day":
        return TruncDate(field, tzinfo=tz), lambda value: value
    return Trunc(field, step, output_field=DateField(), tzinfo=tz), lambda value: value


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
    aggregates = count_expressions(family, *window)
    keys, to_date = {}, None
    if group is not None:
        keys["unit"] = F(f"{GROUP_PATHS[group][family.record]}_id")
    if bucket is not None:
        keys["bucket"], to_date = bucket_expression(family.date_field, bucket, first, end)
    if not keys:
        return {(None, None): rows.aggregate(**aggregates)}
    result = {}
    for row in rows.annotate(**keys).values(*keys).annotate(**aggregates):
        key = (row.get("unit"), to_date(row["bucket"]) if to_date else None)
        result[key] = {counter: row[counter] for counter in family.all_counters}
    return result


def count_dated(
    *,
    scope: Scope | None,
    first: dt.date,
    end: dt.date,
    group: str | None = None,
    bucket: str | None = None,
) -> dict[Key, dict[str, int]]:
    """All period-bound counters (one query per dated family), merged by (unit id, bucket); missing counters are 0."""
    merged: dict[Key, dict[str, int]] = defaultdict(dict)
    for family in DATED_FAMILIES:
        counted = count_family(family, scope=scope, first=first, end=end, group=group, bucket=bucket)
        for key, counters in counted.items():
            merged[key].update(counters)
    return merged
