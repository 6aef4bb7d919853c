"""Daily rollups: every period-bound counter, per local day, for the city, each department and each township.

Why: a report card counts up to five families of rows; at a million suggestions and
tasks a year's card counted live costs about a second (bench/README.md), the target is
200 ms. Summed from the rollups, a year is at most 366 rows per unit.

How: `rollups_refresh()` rebuilds every row from the records in one transaction, using
the same counting code as the live figures (counting.count_family, bucketed by day), so
once refreshed the rollups equal a recount by construction. On PostgreSQL the rebuild
reads one snapshot (REPEATABLE READ) and takes an advisory lock, so two workers never
rebuild at once and readers see the old rows until the new ones are committed. The
refresh row's `as_of` says which moment the figures describe. A beat job should call
it every few minutes; figures.py reads the rollups only while they are at most
MAX_STALENESS old, and counts live otherwise, so a figure is never staler than that.

"Overdue" is not stored: it is "now", counted live from an index on (state, deadline); nor
are the assisting parts overdue, "now" too. Score exclusions are: each excludable family's
`<family>_excluded` counter is rebuilt with the rest, so an approval shows in the rollups
at the next rebuild (at most MAX_STALENESS later), like any other change of the records.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.db.models import BigIntegerField, DateField, F, Max, Min, Sum, Value
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from tasks.models import ReportCardDay, ReportCardRefresh

from .counting import Key, bucket_expression, count_expressions, count_family, family_queryset
from .definitions import DATED_COUNTERS, DATED_FAMILIES
from .scopes import CITY, DEPARTMENT, GROUP_PATHS, KINDS, TOWNSHIP

MAX_STALENESS = dt.timedelta(minutes=5)
BATCH_SIZE = 2000
# pg_try_advisory_xact_lock key: "rcard" in ASCII.
_LOCK_KEY = 0x7263617264

_UNIT_FIELD = {DEPARTMENT: "department_id", TOWNSHIP: "township_id"}


def latest_refresh() -> ReportCardRefresh | None:
    """The last completed rebuild of the rollups, or None."""
    return ReportCardRefresh.objects.order_by("-as_of").first()


def fresh_refresh(*, max_age: dt.timedelta = MAX_STALENESS) -> ReportCardRefresh | None:
    """The last rebuild if it is at most `max_age` old, else None."""
    refresh = latest_refresh()
    if refresh is None or timezone.now() - refresh.as_of > max_age:
        return None
    return refresh


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _by_grain_separately(family, first: dt.date, end: dt.date):
    """Yield (grain, unit id, day, counters): one grouped query per grain (any database)."""
    for grain in KINDS:
        counts = count_family(
            family, scope=None, first=first, end=end, group=None if grain == CITY else grain, bucket="day"
        )
        for (unit, day), counters in counts.items():
            yield grain, unit, day, counters


_GROUP_BY_ALL = " GROUP BY 1, 2, 3"
_GROUPING_SETS = " GROUP BY GROUPING SETS ((1), (1, 2), (1, 3))"


def _by_grain_at_once(family, first: dt.date, end: dt.date):
    """The same rows as _by_grain_separately from one scan (PostgreSQL GROUPING SETS), or None if unsure.

    The query is the ORM's own (same conditions, same day buckets) grouped by day,
    department and township; only its GROUP BY clause becomes three grouping sets. A
    task without a lead department has department 0, so a NULL department marks a
    rolled-up row, never an unassigned one.
    """
    if connection.vendor != "postgresql":
        return None
    bucket, to_date = bucket_expression(family.date_field, "day", first, end)
    paths = {kind: f"{GROUP_PATHS[kind][family.record]}_id" for kind in (DEPARTMENT, TOWNSHIP)}
    query = (
        family_queryset(family, scope=None, first=first, end=end)
        .order_by()
        .annotate(
            rc_day=bucket,
            rc_department=Coalesce(F(paths[DEPARTMENT]), Value(0), output_field=BigIntegerField()),
            rc_township=F(paths[TOWNSHIP]),
        )
        .values("rc_day", "rc_department", "rc_township")
        .annotate(**count_expressions(family, first, end - dt.timedelta(days=1)))
    )
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    if not sql.endswith(_GROUP_BY_ALL):
        return None  # a Django upgrade changed the SQL: fall back to three queries
    with connection.cursor() as cursor:
        cursor.execute(sql[: -len(_GROUP_BY_ALL)] + _GROUPING_SETS, params)
        names = [column.name for column in cursor.description]
        result = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            counters = {counter: row[counter] for counter in family.all_counters}
            day = to_date(row["rc_day"])
            if row["rc_township"] is not None:
                result.append((TOWNSHIP, row["rc_township"], day, counters))
            elif row["rc_department"] is not None:
                result.append((DEPARTMENT, row["rc_department"] or None, day, counters))
            else:
                result.append((CITY, None, day, counters))
        return result


def _count_all(rows: dict) -> None:
    for family in DATED_FAMILIES:
        bounds = family.model.objects.filter(family.where()).aggregate(
            first=Min(family.date_field), last=Max(family.date_field)
        )
        if bounds["first"] is None:
            continue
        first, last = _local_date(bounds["first"]), _local_date(bounds["last"])
        # A year at a time: the working-day test's SQL grows with the days it spans.
        for year in range(first.year, last.year + 1):
            start, end = max(first, dt.date(year, 1, 1)), min(last, dt.date(year, 12, 31)) + dt.timedelta(days=1)
            counted = _by_grain_at_once(family, start, end)
            if counted is None:
                counted = _by_grain_separately(family, start, end)
            for grain, unit, day, counters in counted:
                # Suggestions of tasks not yet assigned belong to the city, not to a department.
                if grain != CITY and unit is None:
                    continue
                rows.setdefault((grain, day, unit), {}).update(counters)


def rollups_refresh() -> ReportCardRefresh | None:
    """Rebuild the daily rollups from the records; None when another rebuild is running (PostgreSQL)."""
    started = time.monotonic()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        as_of = timezone.now()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if outermost:
                    # One snapshot for all the counting queries, so the families agree.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return None
        rows: dict[tuple, dict[str, int]] = {}
        _count_all(rows)
        ReportCardDay.objects.all().delete()
        ReportCardDay.objects.bulk_create(
            (
                ReportCardDay(
                    grain=grain,
                    day=day,
                    department_id=unit if grain == DEPARTMENT else None,
                    township_id=unit if grain == TOWNSHIP else None,
                    **counters,
                )
                for (grain, day, unit), counters in rows.items()
            ),
            batch_size=BATCH_SIZE,
        )
        ReportCardRefresh.objects.all().delete()
        return ReportCardRefresh.objects.create(
            as_of=as_of, finished_at=timezone.now(), seconds=round(time.monotonic() - started, 3), rows=len(rows)
        )


def rollup_counters(
    grain: str,
    *,
    first: dt.date,
    end: dt.date,
    unit_id: int | None = None,
    group: bool = False,
    bucket: str | None = None,
) -> dict[Key, dict[str, int]]:
    """One query: the summed counters of `grain` rows in the local days [first, end), by (unit id, bucket)."""
    rows = ReportCardDay.objects.filter(grain=grain, day__gte=first, day__lt=end).order_by()
    if unit_id is not None:
        rows = rows.filter(**{_UNIT_FIELD[grain]: unit_id})
    sums = {counter: Coalesce(Sum(counter), 0) for counter in DATED_COUNTERS}
    keys = {}
    if group:
        keys["unit"] = F(_UNIT_FIELD[grain])
    if bucket is not None:
        keys["bucket"] = F("day") if bucket == "day" else Trunc("day", bucket, output_field=DateField())
    if not keys:
        return {(None, None): rows.aggregate(**sums)}
    return {
        (row.get("unit"), row.get("bucket")): {counter: row[counter] for counter in DATED_COUNTERS}
        for row in rows.annotate(**keys).values(*keys).annotate(**sums)
    }
