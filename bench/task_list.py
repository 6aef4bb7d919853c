"""Benchmark: the officials' task list (/tasks/) on PostgreSQL with a million tasks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dz_bench_lists .venv/bin/python bench/task_list.py
    .venv/bin/python bench/task_list.py postgres://postgres@127.0.0.1:5432/dz_bench_lists --rows 1000000 --runs 20

Use a scratch database: it is created when missing and migrated; when it does not hold
--rows tasks (or with --reload) the task, suggestion and assist tables are TRUNCATEd and
filled with SQL (INSERT ... SELECT generate_series; about a minute for a million, plus the
indexes). The contents are drawn from word lists: each topic's two-character words (路灯,
暖气, 讨薪 ...) are in a few percent of the rows, 古槐 in one row in ten thousand.

Then it times GET requests through Django's test client (the whole server side: URL
routing, middleware, session, queries, template rendering; no network), logged in as a
supervisor (sees all) and as a handler (one department's tasks, lead or assisting), and
prints p50/p95 over --runs runs of each page after two warm-up requests, with the
queries per request and the rows on the first page.
"""

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

import _common  # this folder is first on sys.path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

DEPARTMENTS = [
    ("minzheng", "民政局"), ("chengguan", "城管局"), ("zhujian", "住建局"), ("weijian", "卫健局"),
    ("shengtai", "生态环境局"), ("shenpi", "行政审批局"), ("ziran", "自然资源和规划局"), ("jiaotong", "交通运输局"),
    ("shuili", "水利局"), ("jiaoyu", "教育局"), ("renshe", "人社局"), ("shichang", "市场监管局"),
    ("nongye", "农业农村局"), ("budongchan", "不动产登记中心"), ("gongdian", "供电公司"), ("gongshui", "供水公司"),
    ("gongre", "供热公司"), ("gongan", "公安局"), ("wenlv", "文旅局"), ("yingji", "应急管理局"),
]  # fmt: skip
# Problems citizens write about; each carries its topic's two-character words.
PROBLEMS = [
    "小区路灯不亮，晚上出行很不方便", "路灯坏了一个多月没人修", "家里暖气不热，室温只有十二三度", "暖气片冰凉，老人孩子受冻",
    "工地拖欠工资，多次讨薪未果", "包工头跑了，农民工讨薪无门", "小区无物业，垃圾没人清理", "物业不作为，电梯经常停运",
    "道路破损，坑洼不平", "路面塌陷，车辆通行困难", "自来水水压低，高层用水困难", "停水三天没有通知",
    "夜间施工噪音扰民", "广场舞音响声音过大", "不动产证迟迟办不下来，影响孩子上学", "房产证办理需要跑好几趟",
    "占道经营，早市摊位堵塞道路", "下水道堵塞，污水外溢", "低保申请审核进度咨询", "养老金发放时间咨询",
    "老旧小区外墙脱落，存在安全隐患", "楼道杂物堆放，消防通道不畅", "公交线路调整后出行不便", "学校周边上下学交通拥堵",
    "企业排放废气，气味刺鼻", "秸秆焚烧烟雾大", "农村饮水安全问题", "电动车充电难，私拉电线",
    "医保报销比例咨询", "门诊挂号难", "菜市场缺斤少两", "超市销售过期食品",
    "河道垃圾多，有异味", "雨后积水严重，车辆无法通行", "频繁停电，影响生活", "电线老化存在隐患",
    "狗患扰民，遛狗不拴绳", "违章建筑占用公共绿地", "小区停车位不足，乱停车", "村里土路需要硬化",
]  # fmt: skip
APPEALS = ["请尽快解决。", "希望相关部门重视。", "请给予答复。", "多次反映未果，请督办。", "盼早日解决。", "谢谢！"]
# One row in ten thousand mentions this, so a search for it is a "rare two-character term".
RARE = "村口古槐枯死，树枝随时可能掉落"
RARE_EVERY = 10_000

# (label, user, query string) of each timed request.
SCENARIOS = [
    ("first page", "supervisor", {}),
    ("filtered: state+township+overdue", "supervisor", {"state": "in_progress", "township": "留早", "due": "overdue"}),
    ("search 2 chars, common: 路灯", "supervisor", {"q": "路灯"}),
    ("search 2 chars, rare: 古槐", "supervisor", {"q": "古槐"}),
    ("search 4 chars: 暖气不热", "supervisor", {"q": "暖气不热"}),
    ("search 1 char: 槐", "supervisor", {"q": "槐"}),
    ("sorted by deadline", "supervisor", {"sort": "deadline"}),
    ("under supervision", "supervisor", {"supervised": "on"}),
    ("assigned in March 2021", "supervisor", {"assigned_after": "2021-03-01", "assigned_before": "2021-03-31"}),
    ("registered in March 2021", "supervisor", {"created_after": "2021-03-01", "created_before": "2021-03-31"}),
    ("page 40", "supervisor", {"page": "40"}),
    ("first page", "handler", {}),
    ("filtered: state+township+overdue", "handler", {"state": "in_progress", "township": "留早", "due": "overdue"}),
    ("search 2 chars, common: 路灯", "handler", {"q": "路灯"}),
    ("search 2 chars, rare: 古槐", "handler", {"q": "古槐"}),
    ("search 4 chars: 暖气不热", "handler", {"q": "暖气不热"}),
]




def ensure_people():
    """The 25 townships, 20 departments, a supervisor and a 城管局 handler (get or create)."""
    from org.models import Department, User

    _common.ensure_townships()
    for order, (code, name) in enumerate(DEPARTMENTS):
        Department.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    chengguan = Department.objects.get(code="chengguan")
    supervisor = User.objects.get_or_create(username="bench-supervisor", defaults={"role": User.Role.SUPERVISOR})[0]
    handler = User.objects.get_or_create(
        username="bench-handler-chengguan", defaults={"role": User.Role.HANDLER, "department": chengguan}
    )[0]
    return {"supervisor": supervisor, "handler": handler}


def _sql_array(words) -> str:
    return "ARRAY[" + ", ".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def load(rows: int) -> None:
    """TRUNCATE the task tables and fill them with `rows` tasks, one suggestion each, 5% with an assist."""
    from django.db import connection

    from org.models import Department, Township

    township_ids = list(Township.objects.order_by("id").values_list("id", flat=True))
    department_ids = list(Department.objects.order_by("id").values_list("id", flat=True))
    problems, appeals = _sql_array(PROBLEMS), _sql_array(APPEALS)
    townships, departments = f"ARRAY{township_ids}::bigint[]", f"ARRAY{department_ids}::bigint[]"
    rare = RARE.replace("'", "''")
    # The bigram index: on the stored column (feedback 0007), earlier on an expression (tasks 0002).
    bigram_migration = importlib.import_module("feedback.migrations.0007_suggestion_content_bigrams")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tasks_taskassist, feedback_callback, feedback_suggestion, tasks_task CASCADE")
        # Building the bigram index once at the end is several times faster than keeping it up to date.
        for statement in bigram_migration.FORWARD_SQL + bigram_migration.REVERSE_SQL:
            if "DROP INDEX" in statement:
                cursor.execute(statement)
        # One content per task: a building, one or two problems and an appeal, drawn by the id's hash.
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_content AS
            SELECT g, h, (h / 11 % 30 + 1) || '号楼附近'
                || CASE WHEN g % {RARE_EVERY} = 7 THEN '{rare}' ELSE ({problems})[1 + h / 17 % {len(PROBLEMS)}] END
                || '，' || ({problems})[1 + h / 41 % {len(PROBLEMS)}]
                || '。' || ({appeals})[1 + h / 19 % {len(APPEALS)}] AS content
            FROM (SELECT g, abs(hashint4(g)::bigint) AS h FROM generate_series(1, {rows}) AS g) AS numbers
            """
        )
        print(f"  contents: {time.perf_counter() - started:.1f} s")
        # Registered from 2021-01-01 to an hour ago, in id order. Each attribute comes from
        # its own digits of the id's hash, so they are independent of one another: 72%
        # closed, 16% on a department's clock (a third of those overdue), the newest 2%
        # still waiting for dispatch. Deadlines are 10 days after assignment.
        cursor.execute(
            f"""
            INSERT INTO tasks_task (
                id, title, state, channel, category, urgency, township_id, lead_department_id,
                created_at, reported_at, reviewed_at, assigned_at, accepted_at, replied_at, closed_at,
                accept_deadline, deadline, callback_deadline, extension_count, review_note, outcome, reply,
                supervision_level, redo_count, paused_seconds, return_count)
            SELECT g, left(content, 40), state, channel, category, urgency, township_id,
                CASE WHEN assigned IS NULL THEN NULL ELSE department_id END,
                created, created, created, assigned, assigned, NULL, closed,
                assigned + interval '1 day', deadline, NULL, 0, '', '', '',
                CASE WHEN h / 7 % 50 = 0 THEN 1 + h / 350 % 3 ELSE 0 END, 0, 0, 0
            FROM (
                SELECT g, h, created, township_id, department_id, state, channel, category, urgency, content,
                    CASE WHEN state IN ('registered', 'reported', 'reviewed') THEN NULL ELSE created END AS assigned,
                    CASE WHEN state = 'closed' THEN created + interval '8 days' END AS closed,
                    CASE
                        WHEN state IN ('registered', 'reported', 'reviewed') THEN NULL
                        WHEN state IN ('assigned', 'accepted', 'in_progress', 'awaiting_approval')
                            AND h / 2000000 % 3 = 0
                            THEN now() - (h / 23 % 40 + 1) * interval '1 day'
                        WHEN state IN ('assigned', 'accepted', 'in_progress', 'awaiting_approval')
                            THEN now() + (h / 23 % 15) * interval '1 day'
                        ELSE created + interval '10 days'
                    END AS deadline
                FROM (
                    SELECT g, h, content,
                        timestamptz '2021-01-01 08:00+08'
                            + (now() - interval '1 hour' - timestamptz '2021-01-01 08:00+08') * (g::float8 / {rows})
                            AS created,
                        ({townships})[1 + h / 100 % {len(township_ids)}] AS township_id,
                        ({departments})[1 + h / 2500 % {len(department_ids)}] AS department_id,
                        CASE
                            WHEN g > {rows} - {rows} / 50 THEN (ARRAY['registered', 'reported', 'reviewed'])[1 + h % 3]
                            WHEN h % 100 < 72 THEN 'closed'
                            WHEN h % 100 < 76 THEN 'assigned'
                            WHEN h % 100 < 80 THEN 'accepted'
                            WHEN h % 100 < 86 THEN 'in_progress'
                            WHEN h % 100 < 88 THEN 'awaiting_approval'
                            WHEN h % 100 < 93 THEN 'replied'
                            WHEN h % 100 < 97 THEN 'called_back'
                            ELSE 'merged'
                        END AS state,
                        (ARRAY['hotline', 'hotline', 'hotline', 'sunshine', 'portal', 'tv', 'visit', 'other'])
                            [1 + h / 50000 % 8] AS channel,
                        (ARRAY['consultation', 'help', 'complaint', 'suggestion', 'wrongdoing'])[1 + h / 400000 % 5]
                            AS category,
                        CASE WHEN h / 13 % 20 = 0 THEN 'urgent' ELSE 'normal' END AS urgency
                    FROM bench_content
                ) AS drawn
            ) AS timed
            """
        )
        print(f"  tasks: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            """
            INSERT INTO feedback_suggestion (
                id, tracking_number, channel, external_id, received_at, registered_at, citizen_name, phone,
                township_id, content, category, urgency, content_fingerprint, task_id, source_system, content_bigrams)
            SELECT t.id, 'DZB' || lpad(t.id::text, 12, '0'), t.channel, '', t.created_at, t.created_at,
                '张*', '', t.township_id, c.content, t.category, t.urgency, md5(c.content), t.id, '',
                dz_bigrams(c.content)
            FROM tasks_task AS t JOIN bench_content AS c ON c.g = t.id
            """
        )
        cursor.execute("DROP TABLE bench_content")
        print(f"  suggestions: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            f"""
            INSERT INTO tasks_taskassist (task_id, department_id, deadline, reply, replied_at, waive_reason)
            SELECT id, ({departments})[1 + (lead_department_id + 1) % {len(department_ids)}], deadline, '', NULL, ''
            FROM tasks_task WHERE lead_department_id IS NOT NULL AND id % 20 = 3
            """
        )
        for table in ("tasks_task", "feedback_suggestion", "tasks_taskassist"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        print(f"  assists: {time.perf_counter() - started:.1f} s")
        for statement in bigram_migration.FORWARD_SQL:
            cursor.execute(statement)  # the rows' bigrams are set above (dz_bigrams), so only the index is built
        print(f"  bigram index: {time.perf_counter() - started:.1f} s")
        # VACUUM too: a settled table has its visibility map, as a production one does.
        for table in ("tasks_task", "feedback_suggestion", "tasks_taskassist"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"loaded {rows:,} tasks in {time.perf_counter() - started:.1f} s")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def time_pages(users: dict, runs: int) -> list[tuple]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("tasks:list")
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    results = []
    for label, role, params in SCENARIOS:
        client = clients[role]
        path = url + ("?" + urlencode(params) if params else "")
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
        shown = response.content.decode().count("data-task-id=")
        row = (role, label, statistics.median(timings), percentile(timings, 0.95), len(queries), shown)
        results.append(row)
        print(f"{row[0]:<10} {row[1]:<34} p50 {row[2]:7.1f} ms  p95 {row[3]:7.1f} ms  queries {row[4]}  rows {row[5]}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", nargs="?", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reload", action="store_true", help="truncate and fill again even if the rows are there")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("give a PostgreSQL URL (argument or DATABASE_URL), e.g. postgres://postgres@127.0.0.1:5432/dz_bench")
    os.environ["DATABASE_URL"] = args.database_url
    # Timed as in production: no per-query recording by DEBUG.
    # (the HTTPS redirect is nginx's side of production, not the server time measured here).
    os.environ.update(DEBUG="false", SECRET_KEY="bench-only", ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="false")
    # Production pages name the hashed static files collectstatic writes (WhiteNoise's manifest).
    os.environ.setdefault("STATIC_ROOT", str(Path(__file__).resolve().parent.parent / "var" / "bench-static"))
    _common.ensure_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)

    from tasks.models import Task

    _common.ensure_schema()
    users = ensure_people()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM tasks_task")
        have = cursor.fetchone()[0] or 0
    if args.reload or have != args.rows:
        print(f"loading {args.rows:,} tasks (the database had {have:,}) ...")
        load(args.rows)
    print(f"tasks: {Task.objects.count():,} rows; timing {args.runs} runs per page")
    time_pages(users, args.runs)


if __name__ == "__main__":
    main()
