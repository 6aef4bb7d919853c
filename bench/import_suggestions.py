"""Benchmark: generate an N-row import file and time the import on the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dingzhou .venv/bin/python bench/import_suggestions.py
    .venv/bin/python bench/import_suggestions.py --rows 20000 --format xlsx --keep

Prints the file size, rows/s of a dry run (read + check only) and of the real import
(read + check + write), the rerun of the same file (every row a duplicate), and the
process's peak memory. Imported rows are deleted afterwards unless --keep is given.
The organisation (townships, villages, departments) is created if the database lacks it.
"""

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
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


def timed(label: str, n: int, **kwargs):
    began = time.perf_counter()
    result = suggestion_import(**kwargs)
    seconds = time.perf_counter() - began
    print(f"{label:<28} {seconds:8.1f} s {n / seconds:10,.0f} rows/s   {result.summary()}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the imported rows")
    parser.add_argument("--no-rerun", action="store_true", help="skip timing the re-import of the same file")
    args = parser.parse_args()

    villages = ensure_organisation()
    prefix = f"B{int(time.time()) % 10**6:06d}"
    path = Path(tempfile.gettempdir()) / f"bench-import-{prefix}.{args.format}"
    began = time.perf_counter()
    write_file(path, args.format, rows(args.rows, villages, prefix, seed=5))
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"file: {path} ({args.format}), {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, "
          f"written in {time.perf_counter() - began:.1f} s")
    before = Suggestion.objects.count()
    try:
        began = time.perf_counter()
        table = open_table(path)
        print(f"{'open (sniff, header)':<28} {time.perf_counter() - began:8.1f} s")
        timed("dry run (read + check)", args.rows, table=table, dry_run=True, batch_size=args.batch_size)
        timed("import (read + check + write)", args.rows, table=open_table(path), batch_size=args.batch_size)
        if not args.no_rerun:
            timed("re-import (all duplicates)", args.rows, table=open_table(path), batch_size=args.batch_size)
        print(f"suggestions stored: {before:,} -> {Suggestion.objects.count():,}")
        print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        path.unlink(missing_ok=True)
        if not args.keep:
            # Bench rows only: their events and suggestions, then their tasks (raw deletes: no
            # cascade collection over a hundred thousand rows).
            with transaction.atomic():
                imported = Suggestion.objects.filter(content__contains=f"（{prefix}-")
                task_ids = list(imported.values_list("task_id", flat=True))
                for start in range(0, len(task_ids), 10_000):
                    chunk = task_ids[start:start + 10_000]
                    TaskEvent.objects.filter(task_id__in=chunk)._raw_delete(connection.alias)
                    Suggestion.objects.filter(task_id__in=chunk)._raw_delete(connection.alias)
                    Task.objects.filter(pk__in=chunk)._raw_delete(connection.alias)


if __name__ == "__main__":
    main()
