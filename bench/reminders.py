"""Benchmark: N open tasks, of which a share need a reminder today; time one run and a second one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dz_reminders .venv/bin/python bench/reminders.py
    .venv/bin/python bench/reminders.py --tasks 1000000 --due-share 0.1

Creates the tasks (deleting the previous bench data first), then times
`reminders_send_due` at --now twice: the first run claims, notifies and mails (mail goes
to Django's in-memory backend, so rendering is measured but no SMTP server); the second
finds everything claimed and sends nothing. Prints the time, the queries, the process's
memory, and the size of the tables. Needing a reminder means: an open task whose deadline
is due soon, due today, overdue or escalated at --now (a quarter of them each).
Missing tables (the reminder models before their migration exists) are created.
"""

import argparse
import collections
import csv
import datetime as dt
import gc
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import _common  # noqa: E402  (this folder is first on sys.path)
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.dateparse import parse_datetime  # noqa: E402

from org.models import Department, Township, User  # noqa: E402
from tasks import calendar  # noqa: E402
from tasks.models import State, Task  # noqa: E402
from tasks.models.reminders import (  # noqa: E402
    LookBackDraw,
    LookBackSample,
    Notification,
    ReminderClaim,
    ReminderDigest,
)
from tasks.reminders import reminders_send_due  # noqa: E402

REMINDER_MODELS = [Notification, ReminderDigest, ReminderClaim, LookBackSample, LookBackDraw]
PREFIX = "bench-reminders"
DEPARTMENTS = 20
HANDLERS_PER_DEPARTMENT = 3


def reset_reminders():
    """Delete every reminder claim, notification and digest (raw: the ORM's delete() collects rows one by one)."""
    tables = [model._meta.db_table for model in (Notification, ReminderDigest, ReminderClaim)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")  # no dead rows left to slow the next run
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def reset():
    """Delete the previous bench data: the reminder rows and the bench's own tasks (nothing else refers to them)."""
    reset_reminders()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Task._meta.db_table} WHERE title LIKE %s", [PREFIX + "%"])
        if connection.vendor == "postgresql":
            # Give the deleted rows' space back, so "data size" is that of this run's rows.
            cursor.execute(f"VACUUM FULL {Task._meta.db_table}")


def ensure_people():
    township = Township.objects.get_or_create(
        name="留早镇", defaults={"short_name": "留早", "kind": Township.Kind.TOWN}
    )[0]
    departments = []
    for i in range(DEPARTMENTS):
        department = Department.objects.get_or_create(code=f"bench{i}", defaults={"name": f"测试局{i}"})[0]
        departments.append(department)
        people = [("head", User.Role.HEAD)]
        people += [(f"handler{j}", User.Role.HANDLER) for j in range(HANDLERS_PER_DEPARTMENT)]
        for suffix, role in people:
            User.objects.get_or_create(
                username=f"bench{i}-{suffix}",
                defaults={"role": role, "department": department, "email": f"bench{i}-{suffix}@example.gov.cn"},
            )
    for name, role in [("bench-supervisor1", User.Role.SUPERVISOR), ("bench-supervisor2", User.Role.SUPERVISOR),
                       ("bench-leader", User.Role.LEADER)]:  # fmt: skip
        User.objects.get_or_create(username=name, defaults={"role": role, "email": f"{name}@example.gov.cn"})
    return township, departments


def deadlines_needing_reminders(today: dt.date) -> list[dt.date]:
    """Deadline days at each level on `today` with the default policy."""
    return [
        calendar.add_working_days(today, 1),  # due soon
        today,  # due today
        calendar.add_working_days(today, -1),  # overdue
        calendar.add_working_days(today, -10),  # escalated
    ]


def create_tasks(n: int, share: float, now: dt.datetime, township, departments, seed: int) -> int:
    rng = random.Random(seed)
    today = timezone.localdate(now)
    due_days = deadlines_needing_reminders(today)
    later = calendar.add_working_days(today, 30)
    states = [State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.AWAITING_APPROVAL]
    created = needing = 0
    batch = []
    started = time.perf_counter()
    for i in range(n):
        if rng.random() < share:
            day = due_days[i % 4]
            needing += 1
        else:
            day = later + dt.timedelta(days=rng.randrange(0, 60))
        batch.append(
            Task(
                title=f"{PREFIX} {i}",
                state=rng.choice(states),
                channel="hotline",
                township=township,
                lead_department=departments[i % len(departments)],
                created_at=now - dt.timedelta(days=20),
                assigned_at=now - dt.timedelta(days=20),
                deadline=calendar.end_of_day(day),
            )
        )
        if len(batch) == 20_000:
            created += insert(batch)
            batch = []
    created += insert(batch)
    elapsed = time.perf_counter() - started
    print(f"created {created:,} open tasks, {needing:,} needing a reminder, in {elapsed:.1f} s")
    return needing


def insert(tasks: list[Task]) -> int:
    """COPY on PostgreSQL (bulk_create manages ~2,500 tasks/s on 2 cores), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        Task.objects.bulk_create(tasks, batch_size=2_000)
        return len(tasks)
    fields = [f for f in Task._meta.concrete_fields if not f.primary_key]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for task in tasks:
        row = []
        for field in fields:
            value = field.get_db_prep_save(getattr(task, field.attname), connection)
            row.append(r"\N" if value is None else value.isoformat() if hasattr(value, "isoformat") else value)
        writer.writerow(row)
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {Task._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    return len(tasks)


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process (Linux /proc)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def reset_peak():
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def timed_run(label: str, now: dt.datetime, limit: int):
    queries = []
    by_kind = collections.Counter()

    def count(execute, sql, params, many, context):
        queries.append(1)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = sql.split()
            table = next((w for w in words[1:6] if "tasks_" in w or "org_" in w), "").strip('"(')
            by_kind[f"{words[0]} {table}"] += time.perf_counter() - started

    gc.collect()
    reset_peak()
    before, _ = rss_mb()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        summary = reminders_send_due(now=now, limit=limit)
    elapsed = time.perf_counter() - started
    after, peak = rss_mb()
    print(
        f"{label}: {elapsed:.2f} s  queries={len(queries)}  "
        f"memory: rss {before:.0f} MB before, peak {peak:.0f} MB (+{max(0.0, peak - before):.0f} MB)"
    )
    print(f"  {summary.line()}")
    top = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in by_kind.most_common(5) if seconds >= 0.05)
    print(f"  database time: {sum(by_kind.values()):.1f} s ({top})")
    return summary, elapsed


def table_sizes():
    models = [Task, ReminderClaim, Notification, ReminderDigest]
    for model in models:
        table = model._meta.db_table
        rows = model.objects.count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                size = f"{cursor.fetchone()[0] / 1024 / 1024:.1f} MB with indexes"
        else:
            size = "size n/a"
        print(f"  {table}: {rows:,} rows, {size}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks to create (default 100,000)")
    parser.add_argument("--due-share", type=float, default=0.1, help="share needing a reminder (default 0.1)")
    parser.add_argument("--now", default="2021-11-17T09:00:00+08:00", help="the run's time (ISO)")
    parser.add_argument("--limit", type=int, default=1_000_000, help="the run's limit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the tasks of the last bench; reset reminders only")
    args = parser.parse_args()
    if not 0 <= args.due_share <= 1 or args.tasks < 0:
        parser.error("--tasks must be >= 0 and --due-share between 0 and 1")
    now = parse_datetime(args.now)
    if now is None or timezone.is_naive(now):
        parser.error("--now must be an ISO date-time with an offset, e.g. 2021-11-17T09:00:00+08:00")

    # DEBUG keeps every SQL string (300 inserts of 1,000 rows each here): not what production measures.
    settings.DEBUG = False
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    _common.ensure_schema(recreate_if_changed=REMINDER_MODELS)
    township, departments = ensure_people()
    if args.reuse:
        reset_reminders()
        open_count = Task.objects.filter(title__startswith=PREFIX).count()
        print(f"reusing {open_count:,} bench tasks")
    else:
        reset()
        create_tasks(args.tasks, args.due_share, now, township, departments, args.seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    first, _ = timed_run("first run ", now, args.limit)
    second, _ = timed_run("second run", now, args.limit)
    assert sum(second.sent.values()) == 0 and second.emails == 0, "the second run sent something"
    print("data:")
    table_sizes()


if __name__ == "__main__":
    main()
