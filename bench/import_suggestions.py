"""Benchmark: generate an N-row import file, time our import and django-import-export's on it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dingzhou .venv/bin/python bench/import_suggestions.py --rows 1000000
    .venv/bin/python bench/import_suggestions.py --rows 20000 --format xlsx --no-reference

Prints the file size; for each phase (our dry run, import, re-import of the same file,
then django-import-export on the file's first --reference-rows rows, by default and in
bulk mode) its rows/s, the process's peak memory and the database backend's CPU time.
Each phase runs in a process of its own, so each peak is its own and not the largest
so far. During the import the resident memory is also printed at each tenth of the
file, to show that it does not grow with the file. The reference runs first, and its
rows are deleted before ours run, so both start from the same table. Imported rows are
deleted afterwards unless --keep is given. The organisation (townships, villages,
departments) is created if the database lacks it.

The reference needs django-import-export (pip install django-import-export); it is
skipped, saying so, where it is not installed.
"""

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from feedback.importers import open_table, suggestion_import  # noqa: E402
from feedback.models import Suggestion  # noqa: E402
from org.models import Department, Township, Village  # noqa: E402
from tasks.models import Task, TaskEvent  # noqa: E402

TOWNSHIPS = (
    "南城区街道 北城区街道 西城区街道 长安路街道 留早镇 清风店镇 庞村镇 砖路镇 明月店镇 叮咛店镇 东亭镇 大辛庄镇 东旺镇 "
    "高蓬镇 邢邑镇 李亲顾镇 子位镇 开元镇 周村镇 息冢镇 东留春乡 号头庄回族乡 杨家庄乡 大鹿庄乡 西城乡"
).split()
DEPARTMENTS = {"住建局": "zhujian", "城管局": "chengguan", "民政局": "minzheng", "水利局": "shuili"}
CHANNELS = ["12345热线", "阳光理政", "政府网站", "走访", "电视问政", "其他"]
CATEGORIES = ["咨询", "求助", "投诉", "建议", "举报", ""]
PROBLEMS = ["路灯不亮", "暖气不热", "道路坑洼", "垃圾清运不及时", "下水道堵塞", "小区无物业", "房产证办不下来",
            "噪音扰民", "自来水停水", "公交线路太少", "违章建筑", "拖欠工资"]
DETAILS = ["已经反映多次", "晚上出行很不方便", "老人孩子受影响", "希望尽快解决", "请相关部门核实处理",
           "附近居民意见很大", "去年就出现过", "影响正常生活"]
HEADERS = ["编号", "来源渠道", "反映时间", "诉求人", "联系电话", "乡镇(街道)", "村(社区)", "诉求内容", "诉求类别",
           "紧急程度", "承办单位", "办理时限"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙"


def ensure_organisation() -> dict[str, list[str]]:
    """Township name -> village names, creating what is missing (load_demo's names where it ran)."""
    villages = {}
    for order, name in enumerate(TOWNSHIPS):
        short = name.removesuffix("街道").removesuffix("回族乡").removesuffix("镇").removesuffix("乡")
        township = Township.objects.filter(name=name).first() or Township.objects.create(
            name=name, short_name=short, kind=Township.Kind.TOWN, sort_order=order
        )
        names = list(Village.objects.filter(township=township).values_list("name", flat=True))
        if not names:
            Village.objects.bulk_create(Village(township=township, name=f"{short}{i}村") for i in range(1, 21))
            names = [f"{short}{i}村" for i in range(1, 21)]
        villages[name] = names
    for name, code in DEPARTMENTS.items():
        if not Department.objects.filter(name=name).exists():
            Department.objects.get_or_create(code=code, defaults={"name": name})
    return villages


def rows(n: int, villages: dict, prefix: str, seed: int):
    rng = random.Random(seed)
    start = dt.datetime(2021, 1, 1, 8, 0)
    townships = list(villages)
    for i in range(n):
        township = rng.choice(townships)
        department = rng.choice(list(DEPARTMENTS)) if rng.random() < 0.1 else ""
        yield [
            f"{prefix}{i:08d}" if rng.random() < 0.8 else "",
            rng.choice(CHANNELS),
            (start + dt.timedelta(minutes=rng.randrange(0, 360 * 24 * 60))).strftime("%Y-%m-%d %H:%M"),
            rng.choice(SURNAMES) + rng.choice(["先生", "女士", "某"]),
            f"13{rng.randrange(0, 10**9):09d}",
            township,
            rng.choice(villages[township]) if rng.random() < 0.7 else "",
            f"{rng.choice(PROBLEMS)}，{rng.choice(DETAILS)}，{rng.choice(DETAILS)}。（{prefix}-{i}）",
            rng.choice(CATEGORIES),
            "紧急" if rng.random() < 0.05 else "一般",
            department,
            rng.choice(["", "10", "15个工作日"]) if department else "",
        ]


def write_file(path: Path, fmt: str, data) -> None:
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            writer.writerows(data)
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Sheet1")
        sheet.append(HEADERS)
        for row in data:
            sheet.append(row)
        workbook.save(path)


# --- one phase, in a process of its own -----------------------------------------------------


def _status(key: str) -> float:
    """VmRSS or VmHWM (peak) of this process in MB, from /proc (ru_maxrss where there is none)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _DatabaseCpu:
    """CPU seconds of the PostgreSQL backends serving this database while the block runs.

    The import's writers open and close connections of their own, so the backends are
    sampled every 0.2 s from pg_stat_activity and /proc (same machine only; None elsewhere);
    a backend's last 0.2 s before it exits may go uncounted.
    """

    def __enter__(self):
        self.seconds = None
        if connection.vendor != "postgresql" or not os.path.exists("/proc/self/stat"):
            return self
        self.first, self.last = {}, {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self):
        from django.db import connections

        try:
            while True:
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                    for (pid,) in cursor.fetchall():
                        try:
                            with open(f"/proc/{pid}/stat") as handle:
                                fields = handle.read().rsplit(")", 1)[1].split()
                        except OSError:
                            continue
                        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                        self.first.setdefault(pid, used)
                        self.last[pid] = used
                if self._stop.wait(0.2):
                    return
        finally:
            connections["default"].close()

    def __exit__(self, *exc):
        if hasattr(self, "_stop"):
            self._stop.set()
            self._sampler.join()
            self.seconds = sum(self.last[pid] - self.first[pid] for pid in self.last)


def _import(args, memory: list) -> str:
    """The phase's import; `memory` gets the resident MB at each tenth of the file (ours only)."""
    path, rows_total = Path(args.file), args.rows
    if args.phase.startswith("reference"):
        return reference_import(path, bulk=args.phase == "reference-bulk")
    done = [0]
    marks = iter(range(1, 11))
    mark = [next(marks)]

    def on_batch(batch):
        done[0] += batch.rows
        while mark[0] is not None and done[0] >= rows_total * mark[0] // 10:
            memory.append(round(_status("VmRSS")))
            mark[0] = next(marks, None)

    result = suggestion_import(table=open_table(path), dry_run=args.phase == "dry", batch_size=args.batch_size,
                               on_batch=on_batch, writers=args.writers)
    return result.summary()


def run_phase(args) -> None:
    """Run one phase and print its figures as one JSON line (the parent process reads it)."""
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    python_before = rusage.ru_utime + rusage.ru_stime
    memory = []
    with _DatabaseCpu() as database_cpu:
        began = time.perf_counter()
        summary = _import(args, memory)
        seconds = time.perf_counter() - began
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "seconds": seconds, "summary": summary, "peak_mb": _status("VmHWM"), "memory": memory,
        "python_cpu": rusage.ru_utime + rusage.ru_stime - python_before,
        "backend_cpu": database_cpu.seconds,
    }))


# --- the reference: django-import-export ----------------------------------------------------


def reference_import(path: Path, *, bulk: bool) -> str:
    """Import the file with django-import-export as a project would set it up; returns our summary line.

    One Suggestion per row, with its Task and "registered" timeline entry, as ours; the
    organisation's names through ForeignKeyWidget, the template's Chinese words for
    channel, category and urgency through a small widget, an existing suggestion found
    by channel and number. By default each row is looked up and saved on its own (with
    the diff django-import-export keeps per row); bulk mode (use_bulk, skip_diff, 1,000
    rows per bulk_create) also creates the tasks and timeline entries in bulk. It leaves
    out what ours does besides: phone and date forms, assignment to a department,
    duplicates by content, the error report.
    """
    import tablib
    from django.utils import timezone
    from import_export import fields, resources, widgets

    from feedback.importers.validate import _CATEGORY_WORDS, _CHANNEL_WORDS, _URGENCY_WORDS, _choice
    from feedback.models import Category, Channel, Urgency
    from feedback.services import task_title
    from tasks.models import Action, State

    class Choice(widgets.Widget):
        def __init__(self, choices, words, default):
            super().__init__()
            self.choices, self.words, self.default = choices, words, default

        def clean(self, value, row=None, **kwargs):
            return _choice(value, self.choices, self.words, self.default)

    def column(attribute, header, widget=None):
        return fields.Field(attribute=attribute, column_name=header, widget=widget or widgets.CharWidget())

    class SuggestionResource(resources.ModelResource):
        external_id = column("external_id", "编号")
        channel = column("channel", "来源渠道", Choice(Channel, _CHANNEL_WORDS, None))
        received_at = column("received_at", "反映时间", widgets.DateTimeWidget(format="%Y-%m-%d %H:%M"))
        citizen_name = column("citizen_name", "诉求人")
        phone = column("phone", "联系电话")
        township = column("township", "乡镇(街道)", widgets.ForeignKeyWidget(Township, "name"))
        village = column("village", "村(社区)", widgets.ForeignKeyWidget(Village, "name"))
        content = column("content", "诉求内容")
        category = column("category", "诉求类别", Choice(Category, _CATEGORY_WORDS, Category.SUGGESTION))
        urgency = column("urgency", "紧急程度", Choice(Urgency, _URGENCY_WORDS, Urgency.NORMAL))

        class Meta:
            model = Suggestion
            fields = ("external_id", "channel", "received_at", "citizen_name", "phone", "township", "village",
                      "content", "category", "urgency")
            use_bulk = bulk
            batch_size = 1000
            skip_diff = bulk

        def get_instance(self, instance_loader, row):
            number = (row.get("编号") or "").strip()
            if not number:
                return None
            channel = _choice(row.get("来源渠道"), Channel, _CHANNEL_WORDS, None)
            return Suggestion.objects.filter(channel=channel, external_id=number).first()

        def before_save_instance(self, instance, row, **kwargs):
            now = timezone.now()
            task = Task(title=task_title(instance.content), state=State.REGISTERED, channel=instance.channel,
                        category=instance.category, urgency=instance.urgency, township=instance.township,
                        created_at=now)
            if bulk:
                # bulk_create skips Suggestion.save(): set what save() would.
                from feedback.models.suggestion import content_fingerprint, new_tracking_number

                instance.tracking_number = new_tracking_number(instance.received_at)
                instance.content_fingerprint = content_fingerprint(instance.content)
                instance._bench_task = task
            else:
                task.save()
                instance.task = task

        def after_save_instance(self, instance, row, **kwargs):
            if not bulk:
                TaskEvent.objects.create(task=instance.task, action=Action.REGISTER, at=instance.registered_at,
                                         to_state=State.REGISTERED,
                                         data={"tracking_number": instance.tracking_number, "source": "import"})

        def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
            pending = list(self.create_instances)
            tasks = Task.objects.bulk_create([s._bench_task for s in pending])
            for suggestion, task in zip(pending, tasks):
                suggestion.task = task
            super().bulk_create(using_transactions, dry_run, raise_errors, batch_size=batch_size, result=result)
            TaskEvent.objects.bulk_create(
                TaskEvent(task=s.task, action=Action.REGISTER, at=s.registered_at, to_state=State.REGISTERED,
                          data={"tracking_number": s.tracking_number, "suggestion": s.pk, "source": "import"})
                for s in pending
            )

    with open(path, encoding="utf-8-sig") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv")
    result = SuggestionResource().import_data(dataset, raise_errors=False)
    totals = result.totals
    return (f"imported={totals['new']} duplicates={totals['update'] + totals['skip']} "
            f"errors={totals['error'] + totals['invalid']}")


# --- the parent: file, phases, figures, clean-up ---------------------------------------------


LABELS = {
    "reference-default": "django-import-export, default",
    "reference-bulk": "django-import-export, bulk",
    "dry": "dry run (read + check)",
    "import": "import (read + check + write)",
    "reimport": "re-import (all duplicates)",
}


def phase(name: str, path: Path, n: int, args) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--file", str(path), "--rows", str(n),
               "--batch-size", str(args.batch_size), "--writers", str(args.writers)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    backend = figures["backend_cpu"]
    print(f"{LABELS[name]:<30} {figures['seconds']:8.1f} s {n / figures['seconds']:10,.0f} rows/s  "
          f"peak {figures['peak_mb']:5.0f} MB  cpu: python {figures['python_cpu'] / n * 1e6:4.0f} us/row"
          + (f", database {backend / n * 1e6:4.0f} us/row" if backend is not None else "")
          + f"   {figures['summary']}", flush=True)
    if figures["memory"]:
        print(f"{'':<30} resident MB at each tenth of the file: {figures['memory']}")
    return figures


def delete_bench_rows(prefix: str) -> None:
    """Bench rows only: their events and suggestions, then their tasks (raw deletes: no cascade
    collection over a million rows). Found by the marker every bench content ends with."""
    with transaction.atomic():
        imported = Suggestion.objects.filter(content__contains=f"（{prefix}-")
        task_ids = list(imported.values_list("task_id", flat=True))
        for start in range(0, len(task_ids), 10_000):
            chunk = task_ids[start:start + 10_000]
            TaskEvent.objects.filter(task_id__in=chunk)._raw_delete(connection.alias)
            Suggestion.objects.filter(task_id__in=chunk)._raw_delete(connection.alias)
            Task.objects.filter(pk__in=chunk)._raw_delete(connection.alias)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference-rows", type=int, default=20_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--writers", type=int, choices=[1, 2], default=2, help="database connections writing")
    parser.add_argument("--keep", action="store_true", help="keep the imported rows")
    parser.add_argument("--no-rerun", action="store_true", help="skip timing the re-import of the same file")
    parser.add_argument("--no-dry-run", action="store_true", help="skip timing the dry run")
    parser.add_argument("--no-reference", action="store_true", help="skip django-import-export")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return run_phase(args)

    villages = ensure_organisation()
    prefix = f"B{int(time.time()) % 10**6:06d}"
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path = folder / f"suggestions.{args.format}"
    began = time.perf_counter()
    write_file(path, args.format, rows(args.rows, villages, prefix, seed=5))
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"file: {args.format}, {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, "
          f"written in {time.perf_counter() - began:.1f} s")
    before = Suggestion.objects.count()
    try:
        reference = {}
        if not args.no_reference and args.format == "csv":
            try:
                import import_export  # noqa: F401
            except ImportError:
                print("django-import-export is not installed: no reference")
            else:
                head = folder / "reference.csv"
                n = min(args.reference_rows, args.rows)
                with open(path, encoding="utf-8-sig") as source, open(head, "w", encoding="utf-8-sig") as out:
                    out.writelines(itertools.islice(source, n + 1))
                for name in ("reference-default", "reference-bulk"):
                    reference[name] = n / phase(name, head, n, args)["seconds"]
                    delete_bench_rows(prefix)
        if not args.no_dry_run:
            phase("dry", path, args.rows, args)
        ours = phase("import", path, args.rows, args)
        if not args.no_rerun:
            phase("reimport", path, args.rows, args)
        ours_rate = args.rows / ours["seconds"]
        for name, rate in reference.items():
            print(f"ours / {LABELS[name]}: {ours_rate / rate:.1f}x")
        print(f"suggestions stored: {before:,} -> {Suggestion.objects.count():,}; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()
        if not args.keep:
            delete_bench_rows(prefix)


if __name__ == "__main__":
    main()
