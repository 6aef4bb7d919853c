"""Benchmark: the report pages (/reports/…) at 1,000,000 suggestions and tasks on PostgreSQL, through Django's test client.

    .venv/bin/python bench/report_pages.py                 # reuses bench/report_card.py's data (loads it if missing)
    .venv/bin/python bench/report_pages.py --repeat 10 --pdf-repeat 3

Data and database: those of bench/report_card.py (dz_reportcard_bench unless DATABASE_URL
says otherwise), with the (state, deadline) INCLUDE (department, township) index of the
Task model. The rollups are rebuilt first, and again whenever the last rebuild is more
than three minutes old, so every page reads them as a server with the beat job would
(figures at most five minutes old; older ones are counted live).

Each page is requested as a leader: "cold" is the first request after closing the
database connection and dropping the process's calendar caches; "warm" is p50 and p95
of --repeat further requests. Times are the whole server side of a request (middleware,
view, queries, template), without HTTP. The PostgreSQL buffers and the OS cache are not
dropped: the machine is shared.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dz_reportcard_bench")

import _common  # noqa: E402
import report_card as data_bench  # noqa: E402  (sets up Django on the benchmark database)
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import NoReverseMatch, clear_url_caches, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from org.models import Department, Township, User  # noqa: E402
from tasks.models import Task  # noqa: E402
from tasks.reportcards import latest_refresh, rollups_refresh  # noqa: E402

REFRESH_AFTER_SECONDS = 180


def routes():
    """The report URLs, from the project's urls.py or, until it includes them, the tests' urlconf."""
    try:
        reverse("reports:overview")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "tests.tasks.report_test_urls"
        clear_url_caches()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def keep_rollups_fresh():
    refresh = latest_refresh()
    if refresh is None or (timezone.now() - refresh.as_of).total_seconds() > REFRESH_AFTER_SECONDS:
        started = time.perf_counter()
        rollups_refresh()
        print(f"  (rollups rebuilt in {time.perf_counter() - started:.0f} s)", flush=True)


def time_page(client, label: str, url: str, repeat: int) -> None:
    keep_rollups_fresh()
    data_bench.cold_start()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # A wrapper, not CaptureQueriesContext: each request's start resets Django's query log.
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        response = client.get(url)
        cold = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"  {label:<44} {len(queries):>3} queries   cold {cold * 1000:6.0f} ms   "
          f"warm p50 {statistics.median(times) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Tasks (and suggestions) the data should hold.")
    parser.add_argument("--repeat", type=int, default=20, help="Warm repetitions per page.")
    parser.add_argument("--pdf-repeat", type=int, default=3, help="Warm repetitions of the PDF.")
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']} on {connection.settings_dict['HOST']}")
    _common.ensure_schema()
    departments, townships = data_bench.ensure_org()
    existing = Task.objects.filter(title__startswith=data_bench.PREFIX).count()
    if existing != args.rows:
        print(f"creating {args.rows:,} tasks and suggestions (found {existing:,})")
        data_bench.load(args.rows, departments, townships)
    data_bench.set_proposed_indexes(True)
    routes()

    leader, _created = User.objects.get_or_create(username="bench-leader", defaults={"role": User.Role.LEADER})
    client = Client()
    client.force_login(leader)
    largest = (
        Task.objects.filter(lead_department__isnull=False).values("lead_department").annotate(n=Count("pk"))
        .order_by("-n").first()["lead_department"]
    )
    code = Department.objects.get(pk=largest).code
    township = Township.objects.order_by("pk").first()
    pages = [
        ("overview, 2021", reverse("reports:overview") + "?period=2021"),
        ("overview, 2021-10", reverse("reports:overview") + "?period=2021-10"),
        ("department card, 2021", reverse("reports:department_card", args=[code]) + "?period=2021"),
        ("department card, 2021-10", reverse("reports:department_card", args=[code]) + "?period=2021-10"),
        ("township card, 2021", reverse("reports:township_card", args=[township.pk]) + "?period=2021"),
        ("city card, 2021-Q3", reverse("reports:city_card") + "?period=2021-Q3"),
        ("records: closed in 2021, first page", reverse("reports:records") + "?figure=closed&scope=city&period=2021"),
        ("records: received 2021-10 by visit", reverse("reports:records")
         + "?figure=received&scope=city&period=2021-10&channel=visit"),
        ("records: overdue of the department", reverse("reports:records") + f"?figure=overdue&scope=department:{code}"),
    ]
    print(f"pages as a leader, department {code}, township {township.name}:")
    for label, url in pages:
        time_page(client, label, url, args.repeat)
    time_page(client, "department card PDF, 2021", reverse("reports:department_card_pdf", args=[code]) + "?period=2021",
              args.pdf_repeat)


if __name__ == "__main__":
    main()
