"""Benchmark: report card figures at 1,000,000 suggestions and tasks on PostgreSQL, live and from rollups.

    .venv/bin/python bench/report_card.py                       # creates or reuses the data, then times
    .venv/bin/python bench/report_card.py --rows 200000 --fresh # another size, rebuilt
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dz_reportcard_bench .venv/bin/python bench/report_card.py

Data (its own database, dz_reportcard_bench unless DATABASE_URL says otherwise; created if
missing): 25 townships, 43 handling departments (15 functional, 3 utilities, 25 township
offices), N tasks with one suggestion each spread over 2021, in every state (92% closed,
4.5% still with a department),
with assignment, acceptance, reply and closing times, and a callback for most closed
tasks. Generated inside PostgreSQL with INSERT … SELECT generate_series in chunks (no ORM
rows, no Python loop over rows); the secondary indexes of the three tables are dropped
before the load and rebuilt after it, then VACUUM ANALYZE. A rerun reuses the data when
the row count matches.

Timings, for the year 2021 (every row) and one month, live and from the rollups:
  city card · department card (largest department) · report card page (card + previous
  period + average department) · by department · by township · city trend by month ·
  city overview (card + trend + both rankings)
"warm": the same call repeated (--repeat times), p50 and p95 of the wall time in this
process (the server side of a page: Python + PostgreSQL, no HTTP). "cold": the first call
after closing the database connection and dropping the process's calendar caches; the
machine is shared, so PostgreSQL's shared buffers and the OS page cache are not dropped.
Also timed: one rebuild of the rollups.
"""

import argparse
import os
import statistics
import time

import _common  # noqa: E402  (this folder is first on sys.path)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dz_reportcard_bench"
_common.setup_django(DEFAULT_URL)

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from feedback.models import Callback, Suggestion  # noqa: E402
from org.models import Department  # noqa: E402
from tasks import calendar  # noqa: E402
from tasks.models import ReportCardDay, Task  # noqa: E402
from tasks.reportcards import (  # noqa: E402
    LIVE,
    ROLLUP,
    city,
    figures_by_department,
    figures_by_township,
    figures_trend,
    for_department,
    parse_period,
    report_card,
    report_card_compared,
    rollups_refresh,
)

PREFIX = "bench-rc "
CHUNK = 100_000
FUNCTIONAL = [
    ("民政局", "minzheng"), ("城管局", "chengguan"), ("住建局", "zhujian"), ("卫健局", "weijian"),
    ("生态环境局", "shengtai"), ("行政审批局", "shenpi"), ("自然资源和规划局", "ziran"), ("交通运输局", "jiaotong"),
    ("水利局", "shuili"), ("教育局", "jiaoyu"), ("人社局", "renshe"), ("市场监管局", "shichang"),
    ("农业农村局", "nongye"), ("不动产登记中心", "budongchan"), ("公安局", "gongan"),
]
UTILITIES = [("供电公司", "gongdian"), ("供水公司", "gongshui"), ("供热公司", "gongre")]
LOADED_TABLES = [Task._meta.db_table, Suggestion._meta.db_table, Callback._meta.db_table]


def ensure_org() -> tuple[list[int], list[int]]:
    townships = _common.ensure_townships()
    departments = []
    for i, (name, code) in enumerate(FUNCTIONAL + UTILITIES):
        kind = Department.Kind.UTILITY if (name, code) in UTILITIES else Department.Kind.FUNCTIONAL
        departments.append(
            Department.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "sort_order": i})[0]
        )
    departments += _common.ensure_township_offices(townships)
    Department.objects.get_or_create(code="supervision", defaults={"name": "问政办", "kind": "supervision"})
    return [d.pk for d in departments], [t.pk for t in townships]


TASKS_SQL = """
INSERT INTO tasks_task (title, state, channel, category, urgency, created_at, assigned_at, accepted_at,
    replied_at, closed_at, deadline, extension_count, review_note, outcome, reply, supervision_level,
    redo_count, paused_seconds, return_count, lead_department_id, township_id)
SELECT %(prefix)s || g,
    CASE WHEN rs < 0.010 THEN 'registered' WHEN rs < 0.015 THEN 'returned' WHEN rs < 0.025 THEN 'assigned'
         WHEN rs < 0.035 THEN 'accepted' WHEN rs < 0.055 THEN 'in_progress' WHEN rs < 0.060 THEN 'awaiting_approval'
         WHEN rs < 0.070 THEN 'replied' WHEN rs < 0.080 THEN 'called_back' ELSE 'closed' END,
    (ARRAY['hotline','sunshine','portal','tv','visit','other'])[1 + ci], 'suggestion', 'normal', created,
    CASE WHEN rs >= 0.010 THEN assigned END,
    CASE WHEN rs >= 0.025 THEN accepted END,
    CASE WHEN rs >= 0.060 THEN replied END,
    CASE WHEN rs >= 0.080 THEN replied + r5 * interval '2 days' END,
    CASE WHEN rs >= 0.015 THEN assigned + (3 + floor(r3 * 13)) * interval '1 day'
                               + CASE WHEN r3 < 0.1 THEN interval '10 days' ELSE interval '0' END END,
    CASE WHEN r3 < 0.1 THEN 1 ELSE 0 END, '', '', '', 0, 0, 0, 0,
    CASE WHEN rs < 0.015 THEN NULL ELSE (%(departments)s::bigint[])[1 + di] END,
    (%(townships)s::bigint[])[1 + ti]
FROM (
    SELECT g, rs, r3, r5, ci, di, ti, created,
        created + power(r1, 3) * interval '3 days' AS assigned,
        created + power(r1, 3) * interval '3 days' + power(r2, 4) * interval '4 days' AS accepted,
        created + power(r1, 3) * interval '3 days' + power(r2, 4) * interval '4 days'
                + power(r4, 2) * interval '20 days' AS replied
    FROM (
        SELECT g, random() AS rs, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
            floor(random() * 6)::int AS ci, floor(random() * %(n_departments)s)::int AS di,
            floor(random() * %(n_townships)s)::int AS ti,
            timestamptz '2021-01-01 00:00+08' + random() * interval '365 days' AS created
        FROM generate_series(%(lo)s, %(hi)s) AS g
    ) AS draws
) AS timed
"""

SUGGESTIONS_SQL = """
INSERT INTO feedback_suggestion (tracking_number, channel, external_id, received_at, registered_at, citizen_name,
    phone, content, source_system, category, urgency, content_fingerprint, task_id, township_id, content_bigrams)
SELECT 'BRC' || lpad(t.id::text, 12, '0'), t.channel, '', t.created_at - random() * interval '1 day', t.created_at,
    '', '', '小区路灯不亮，请尽快修复。' || t.id, '', 'suggestion', 'normal', md5(t.id::text), t.id, t.township_id,
    dz_bigrams('小区路灯不亮，请尽快修复。' || t.id)
FROM tasks_task t WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.title LIKE 'bench-rc %%'
"""

CALLBACKS_SQL = """
INSERT INTO feedback_callback (result, note, called_at, task_id)
SELECT CASE WHEN r < 0.85 THEN 'satisfied' WHEN r < 0.95 THEN 'basically_satisfied' ELSE 'unsatisfied' END,
    '', t.replied_at + random() * interval '2 days', t.id
FROM (SELECT t.*, random() AS r, random() AS keep FROM tasks_task t
      WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.state IN ('closed', 'called_back')) AS t
WHERE t.keep < 0.8
"""


def load(rows: int, departments: list[int], townships: list[int]) -> None:
    params = {
        "prefix": PREFIX, "departments": departments, "townships": townships,
        "n_departments": len(departments), "n_townships": len(townships),
    }
    per_task = [(SUGGESTIONS_SQL, "suggestions"), (CALLBACKS_SQL, "callbacks")]
    _common.bulk_load(LOADED_TABLES, rows, TASKS_SQL, params, per_task, CHUNK)


# The index asked of the Task model's owner (see bench/README.md): with the department and
# township in the index, "overdue by department" is an index-only scan instead of reading
# every overdue task's row.
PROPOSED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS bench_task_state_deadline_cover_idx ON tasks_task (state, deadline) "
    "INCLUDE (lead_department_id, township_id)",
]


def set_proposed_indexes(enabled: bool) -> None:
    with connection.cursor() as cursor:
        if enabled:
            for statement in PROPOSED_INDEXES:
                cursor.execute(statement)
            cursor.execute("VACUUM ANALYZE tasks_task")
        else:
            cursor.execute("DROP INDEX IF EXISTS bench_task_state_deadline_cover_idx")


def cold_start():
    connection.close()
    calendar.invalidate_cache(everywhere=False)
    calendar.official_years.cache_clear()
    calendar._official_working_ordinals.cache_clear()


def measure(label: str, function, repeat: int) -> dict:
    cold_start()
    started = time.perf_counter()
    function()
    cold = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    result = {"label": label, "cold": cold, "p50": statistics.median(times), "p95": p95}
    print(f"  {label:<42} cold {cold * 1000:7.0f} ms   warm p50 {result['p50'] * 1000:7.0f} ms"
          f"   p95 {p95 * 1000:7.0f} ms", flush=True)
    return result


def scenarios(period_text: str, department):
    period = parse_period(period_text)
    scope = for_department(department)

    def overview(source):
        report_card(city(), period, source=source)
        figures_trend(city(), period, "month", source=source)
        figures_by_department(period, source=source)
        figures_by_township(period, source=source)

    return {
        "city card": lambda source: report_card(city(), period, source=source),
        "department card": lambda source: report_card(scope, period, source=source),
        "report card page (card, previous, average)": lambda source: report_card_compared(scope, period, source=source),
        "by department (43)": lambda source: figures_by_department(period, source=source),
        "by township (25)": lambda source: figures_by_township(period, source=source),
        "city trend by month": lambda source: figures_trend(city(), period, "month", source=source),
        "city overview (card, trend, rankings)": overview,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Tasks (and suggestions) to create.")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the data even if the row count matches.")
    parser.add_argument("--repeat", type=int, default=20, help="Warm repetitions from the rollups.")
    parser.add_argument("--live-repeat", type=int, default=5, help="Warm repetitions of live counting.")
    parser.add_argument("--periods", default="2021,2021-10", help="Comma-separated periods to time.")
    parser.add_argument("--skip-live", action="store_true", help="Time the rollups only.")
    parser.add_argument(
        "--proposed-indexes", action="store_true", help="Add the covering index proposed for tasks_task first."
    )
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']} on {connection.settings_dict['HOST']}")
    _common.ensure_schema()
    departments, townships = ensure_org()
    existing = Task.objects.filter(title__startswith=PREFIX).count()
    if args.fresh or existing != args.rows:
        print(f"creating {args.rows:,} tasks and suggestions (found {existing:,})")
        load(args.rows, departments, townships)
    else:
        print(f"reusing {existing:,} bench tasks")
    print(f"rows: tasks {Task.objects.count():,}, suggestions {Suggestion.objects.count():,}, "
          f"callbacks {Callback.objects.count():,}")

    set_proposed_indexes(args.proposed_indexes)
    print(f"proposed covering index: {'on' if args.proposed_indexes else 'off'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    started = time.perf_counter()
    refresh = rollups_refresh()
    print(f"rollups rebuilt in {time.perf_counter() - started:.1f} s: {refresh.rows:,} rows "
          f"({ReportCardDay.objects.count():,} in the table)")

    busiest = (
        Task.objects.exclude(lead_department=None).values("lead_department").annotate(n=Count("pk")).order_by("-n")
    )
    largest = Department.objects.get(pk=busiest.values_list("lead_department", flat=True)[0])
    results = []
    for period_text in args.periods.split(","):
        card = report_card(city(), parse_period(period_text), source=ROLLUP)
        print(f"\nperiod {period_text}: received {card['received']:,}, assigned {card['assigned']:,}, "
              f"closed {card['closed']:,}, overdue {card['overdue']:,}; department card: {largest.name}")
        for source, repeat in ((ROLLUP, args.repeat), (LIVE, args.live_repeat)):
            if source == LIVE and args.skip_live:
                continue
            print(f" {source}:")
            for label, function in scenarios(period_text, largest).items():
                results.append(
                    {"period": period_text, "source": source,
                     **measure(label, lambda f=function, s=source: f(s), repeat)}  # fmt: skip
                )
    print(f"load average {os.getloadavg()[0]:.1f}")
    slow = [r for r in results if r["source"] == ROLLUP and (r["p95"] > 0.2 or r["cold"] > 1.0)]
    print("\ntarget (rollups): p95 < 200 ms warm, < 1 s cold:", "met" if not slow else f"missed by {len(slow)}")


if __name__ == "__main__":
    main()
