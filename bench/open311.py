"""Benchmark: the Open311 API's reads at 1,000,000 suggestions on PostgreSQL, timed at the server.

    .venv/bin/python bench/open311.py                  # creates or reuses the data, then times
    .venv/bin/python bench/open311.py --rows 200000 --fresh
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dz_open311_bench .venv/bin/python bench/open311.py

Data (its own database, dz_open311_bench unless DATABASE_URL says otherwise; created and
migrated if missing): 25 townships, 43 handling departments, N tasks with one suggestion
each received over 2021 (ids growing with time) in the five categories, and their timelines (register, assign,
accept, reply, close as far as each got: ~4.5 rows a task). As in life, old cases are
closed and open ones are recent: before November 99.5% are closed, in the last 60 days
about half. Generated inside PostgreSQL with INSERT … SELECT generate_series in chunks;
secondary indexes dropped during the load and rebuilt after it, then VACUUM ANALYZE. A
rerun reuses the data when the row count matches.

Timed: each request goes through Django's whole stack in this process (test Client:
middleware, view, serializer, JSON or XML renderer), so the figure is the server's time
without the network. Each scenario runs --repeat times with a different random window or
id; "cold" is the first call after closing the database connection. p50/p95/max in ms.
The plan of the page query is printed for the window with the fewest matches. With
--task-open-index it first adds the partial index on open tasks asked of tasks/models.

Measured (2-core machine shared with other engineers, load average 2.5-2.7; PostgreSQL 15;
1,000,000 suggestions, 53,554 open; 30 requests a scenario; p50 / p95 ms at the server):

    scenario (1,000 rows a page unless said)        without task_open_idx   with it
    requests.json 90 days, status=open (recent)            126 / 145        59 / 65
    requests.json 90 days, status=open (0.5% match)        184 / 266       103 / 173
    requests.json 90 days, status=closed                   127 / 210        65 / 162
    requests.json 90 days, open,closed                      54 / 66         53 / 72
    requests.xml 90 days, status=closed                    166 / 245        99 / 187
    requests.json 7 days, open, complaint (~19 rows)        91 / 144        24 / 88
    requests.json 90 days, closed, page 20                 137 / 224        69 / 162
    requests/{id}.json · .xml                             4 / 10 · 4 / 4    4 / 6 · 4 / 6

Before the covering index on suggestions and the hashed open-task set, the sparse "open"
window took 3.6 s (a nested loop over all 240,000 rows of the range).
"""

import argparse
import os
import random
import statistics
import time
from urllib.parse import urlencode

import _common  # noqa: E402  (this folder is first on sys.path)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dz_open311_bench"
_common.setup_django(DEFAULT_URL)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from feedback.models import Suggestion  # noqa: E402
from org.models import Department  # noqa: E402
from tasks.models import Task, TaskEvent  # noqa: E402

PREFIX = "bench-o311 "
CHUNK = 100_000
DEPARTMENTS = [
    ("民政局", "minzheng"), ("城管局", "chengguan"), ("住建局", "zhujian"), ("卫健局", "weijian"),
    ("生态环境局", "shengtai"), ("行政审批局", "shenpi"), ("自然资源和规划局", "ziran"), ("交通运输局", "jiaotong"),
    ("水利局", "shuili"), ("教育局", "jiaoyu"), ("人社局", "renshe"), ("市场监管局", "shichang"),
    ("农业农村局", "nongye"), ("不动产登记中心", "budongchan"), ("公安局", "gongan"), ("供电公司", "gongdian"),
    ("供水公司", "gongshui"), ("供热公司", "gongre"),
]
LOADED_TABLES = [Task._meta.db_table, Suggestion._meta.db_table, TaskEvent._meta.db_table]
YEAR_END = "2022-01-01 00:00+08"

# Open cases are recent: the share still open grows over the last 60 days of the year.
TASKS_SQL = """
INSERT INTO tasks_task (title, state, channel, category, urgency, created_at, assigned_at, accepted_at,
    replied_at, closed_at, deadline, extension_count, review_note, outcome, reply, supervision_level,
    redo_count, paused_seconds, return_count, lead_department_id, township_id)
SELECT %(prefix)s || g, state, (ARRAY['hotline','sunshine','portal','tv','visit','other'])[1 + ci],
    (ARRAY['consultation','help','complaint','suggestion','wrongdoing'])[1 + ki], 'normal', created,
    CASE WHEN state NOT IN ('registered', 'returned') THEN created + interval '5 hours' END,
    CASE WHEN state NOT IN ('registered', 'returned', 'assigned') THEN created + interval '1 day' END,
    CASE WHEN state IN ('replied', 'called_back', 'closed') THEN created + interval '6 days' END,
    CASE WHEN state = 'closed' THEN created + interval '8 days' END,
    CASE WHEN state NOT IN ('registered', 'returned') THEN created + interval '15 days' END,
    0, '', CASE WHEN state IN ('replied', 'called_back', 'closed') THEN 'resolved' ELSE '' END,
    CASE WHEN state IN ('replied', 'called_back', 'closed') THEN '已处理完毕，感谢您的反映。' ELSE '' END, 0, 0, 0, 0,
    CASE WHEN state IN ('registered', 'returned') THEN NULL ELSE (%(departments)s::bigint[])[1 + di] END,
    (%(townships)s::bigint[])[1 + ti]
FROM (
    SELECT g, ci, ki, di, ti, created,
        CASE WHEN rs < open_share THEN
            (ARRAY['registered','assigned','accepted','in_progress','awaiting_approval','replied','called_back'])
            [1 + floor(rs / open_share * 7)::int]
        ELSE 'closed' END AS state
    FROM (
        SELECT g, rs, ci, ki, di, ti, created,
            CASE WHEN created > timestamptz %(year_end)s - interval '60 days'
                 THEN 0.5 * extract(epoch FROM created - (timestamptz %(year_end)s - interval '60 days'))
                      / extract(epoch FROM interval '60 days') + 0.05
                 ELSE 0.005 END AS open_share
        FROM (
            SELECT g, random() AS rs, floor(random() * 6)::int AS ci, floor(random() * 5)::int AS ki,
                floor(random() * %(n_departments)s)::int AS di, floor(random() * %(n_townships)s)::int AS ti,
                -- ids grow with time, as registration makes them
                timestamptz '2021-01-01 00:00+08' + (g - 1 + random()) / %(rows)s * interval '365 days' AS created
            FROM generate_series(%(lo)s, %(hi)s) AS g
        ) AS draws
    ) AS shares
) AS decided
"""

SUGGESTIONS_SQL = """
INSERT INTO feedback_suggestion (tracking_number, channel, external_id, received_at, registered_at, citizen_name,
    phone, content, latitude, longitude, source_system, category, urgency, content_fingerprint, task_id, township_id,
    content_bigrams)
SELECT 'BO3' || lpad(t.id::text, 12, '0'), t.channel, '', t.created_at - random() * interval '1 day', t.created_at,
    '张三', '13812345678', '小区路灯不亮，请尽快修复。' || t.id, 38.5 + random() * 0.2, 114.9 + random() * 0.2, '',
    t.category, 'normal', md5(t.id::text), t.id, t.township_id, dz_bigrams('小区路灯不亮，请尽快修复。' || t.id)
FROM tasks_task t WHERE t.id BETWEEN %(lo)s AND %(hi)s
"""

# One timeline row per step the task went through.
EVENTS_SQL = """
INSERT INTO tasks_taskevent (task_id, action, at, from_state, to_state, note, data)
SELECT t.id, step.action, step.at, step.from_state, step.to_state, '', '{}'::jsonb
FROM tasks_task t
CROSS JOIN LATERAL (VALUES
    ('register', t.created_at, '', 'registered', true),
    ('assign', t.assigned_at, 'registered', 'assigned', t.assigned_at IS NOT NULL),
    ('accept', t.accepted_at, 'assigned', 'accepted', t.accepted_at IS NOT NULL),
    ('reply', t.replied_at, 'accepted', 'replied', t.replied_at IS NOT NULL),
    ('close', t.closed_at, 'replied', 'closed', t.closed_at IS NOT NULL)
) AS step(action, at, from_state, to_state, happened)
WHERE t.id BETWEEN %(lo)s AND %(hi)s AND step.happened
"""


def ensure_org() -> tuple[list[int], list[int]]:
    townships = _common.ensure_townships()
    departments = [
        Department.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})[0]
        for i, (name, code) in enumerate(DEPARTMENTS)
    ]
    departments += _common.ensure_township_offices(townships)
    return [d.pk for d in departments], [t.pk for t in townships]


def load(rows: int, departments: list[int], townships: list[int]) -> None:
    params = {
        "prefix": PREFIX, "departments": departments, "townships": townships,
        "n_departments": len(departments), "n_townships": len(townships), "year_end": YEAR_END, "rows": rows,
    }
    per_task = [(SUGGESTIONS_SQL, "suggestions"), (EVENTS_SQL, "timeline rows")]
    _common.bulk_load(LOADED_TABLES, rows, TASKS_SQL, params, per_task, CHUNK)


def ensure_model_indexes() -> None:
    """Create the Suggestion indexes as the model declares them, where the migrations are behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Suggestion._meta.db_table])
        existing = dict(cursor.fetchall())
    with connection.schema_editor() as editor:
        for index in Suggestion._meta.indexes:
            wanted = str(index.create_sql(Suggestion, editor)).replace('"', "")
            have = existing.get(index.name, "").replace('"', "")
            if have and "INCLUDE" in wanted and "INCLUDE" not in have:
                editor.remove_index(Suggestion, index)
                have = ""
            if not have:
                editor.add_index(Suggestion, index)
                print(f"created index {index.name} as the model declares it")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Suggestion._meta.db_table}")


# The index asked of the Task model's owner: the open tasks' ids, so "open" and "closed" hash
# that small set from a small index instead of scanning an index of every task.
TASK_OPEN_INDEX = "CREATE INDEX IF NOT EXISTS bench_task_open_idx ON tasks_task (id) WHERE state <> 'closed'"


def set_task_open_index(enabled: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(TASK_OPEN_INDEX if enabled else "DROP INDEX IF EXISTS bench_task_open_idx")
        cursor.execute("VACUUM ANALYZE tasks_task")


def timed(label: str, make_url, repeat: int, client: Client) -> dict:
    """Time GETs of make_url(rng) at the server; every answer must be 200 and non-empty."""
    rng = random.Random(label)
    connection.close()
    started = time.perf_counter()
    first = client.get(make_url(rng))
    cold = time.perf_counter() - started
    assert first.status_code == 200, (make_url(rng), first.status_code, first.content[:300])
    times, sizes, counts = [], [], []
    for _ in range(repeat):
        url = make_url(rng)
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        sizes.append(len(response.content))
        counts.append(response.content.count(b"<service_request_id>") or response.content.count(b'"service_request_id"'))
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    result = {"label": label, "cold": cold, "p50": statistics.median(times), "p95": p95, "max": times[-1]}
    print(f"  {label:<58} cold {cold * 1000:6.0f}   p50 {result['p50'] * 1000:5.0f}   p95 {p95 * 1000:5.0f}"
          f"   max {times[-1] * 1000:5.0f} ms   {statistics.median(counts):5.0f} requests,"
          f" {statistics.median(sizes) / 1024:5.0f} KB", flush=True)
    return result


def window(rng: random.Random, *, first_day: int, last_day: int, days: int) -> dict:
    start = rng.randint(first_day, last_day - days)
    base = time.mktime(time.strptime("2021-01-01", "%Y-%m-%d"))
    day = lambda n: time.strftime("%Y-%m-%d", time.localtime(base + n * 86400))  # noqa: E731
    return {"start_date": f"{day(start)}T00:00:00+08:00", "end_date": f"{day(start + days)}T00:00:00+08:00"}


def scenarios(ids: tuple[int, int]) -> dict:
    api = "/open311/v2"

    def listing(fmt="json", *, status=None, first_day=0, last_day=365, days=90, **extra):
        def make(rng):
            params = window(rng, first_day=first_day, last_day=last_day, days=days)
            if status:
                params["status"] = status
            params.update(extra)
            return f"{api}/requests.{fmt}?{urlencode(params)}"

        return make

    def one(fmt):
        return lambda rng: f"{api}/requests/{rng.randint(*ids)}.{fmt}"

    return {
        "requests.json 90 days, status=open (recent: many open)": listing(status="open", first_day=270),
        "requests.json 90 days, status=open (early: 0.5% open)": listing(status="open", last_day=200),
        "requests.json 90 days, status=closed": listing(status="closed"),
        "requests.json 90 days, status=open,closed": listing(status="open,closed"),
        "requests.xml 90 days, status=closed": listing("xml", status="closed"),
        "requests.json 7 days, status=open, service_code=complaint": listing(
            status="open", days=7, service_code="complaint"
        ),
        "requests.json 90 days, status=closed, page 20 of 1000": listing(status="closed", page=20),
        "requests.json default (last 90 days of now: empty)": lambda rng: f"{api}/requests.json",
        "requests/{id}.json": one("json"),
        "requests/{id}.xml": one("xml"),
    }


def explain_rare_window() -> None:
    """The plan of the page query for 90 spring days and status=open (0.5% match)."""
    from django.db.models import Q

    from open311.selectors import _IsTrue, _open_tasks
    from open311.serializers import _when

    start, end = _when("2021-03-01", end=False), _when("2021-05-29", end=True)
    page = (
        Suggestion.objects.filter(_IsTrue(Q(task_id__in=_open_tasks())), received_at__gte=start, received_at__lte=end)
        .order_by("-received_at", "-pk").values("pk")[:1000]
    )
    print("\nplan of the page query, 90 days in spring, status=open:")
    print(page.explain(analyze=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Suggestions (and tasks) to create.")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the data even if the row count matches.")
    parser.add_argument("--repeat", type=int, default=40, help="Timed requests per scenario.")
    parser.add_argument("--task-open-index", action="store_true",
                        help="Add the partial index on open tasks proposed for tasks_task first.")
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']} on {connection.settings_dict['HOST']}")
    call_command("migrate", verbosity=0)
    departments, townships = ensure_org()
    existing = Task.objects.filter(title__startswith=PREFIX).count()
    if args.fresh or existing != args.rows:
        print(f"creating {args.rows:,} tasks, suggestions and timelines (found {existing:,})")
        load(args.rows, departments, townships)
    else:
        print(f"reusing {existing:,} bench tasks")
    ids = Suggestion.objects.order_by("pk").values_list("pk", flat=True)
    bounds = (ids.first(), ids.last())
    print(f"rows: suggestions {Suggestion.objects.count():,}, tasks {Task.objects.count():,}, "
          f"timeline {TaskEvent.objects.count():,}; open tasks {Task.objects.exclude(state='closed').count():,}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")

    ensure_model_indexes()
    set_task_open_index(args.task_open_index)
    print(f"proposed partial index on open tasks: {'on' if args.task_open_index else 'off'}")
    client = Client()
    results = []
    # Rate limits would answer 429 to a benchmark; they cost one cache round trip, kept in the figures.
    with override_settings(OPEN311_ANONYMOUS_RATE="100000000/m"):
        for label, make_url in scenarios(bounds).items():
            results.append(timed(label, make_url, args.repeat, client))
    explain_rare_window()
    print(f"\nload average {os.getloadavg()[0]:.1f}")
    slow = [r for r in results if r["p95"] > 0.2]
    print("target: p95 < 200 ms at the server:", "met" if not slow else f"missed by {[r['label'] for r in slow]}")


if __name__ == "__main__":
    main()
