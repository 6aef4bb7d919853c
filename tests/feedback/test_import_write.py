"""Writing imports: every row accounted for once, duplicates, assignment, dry runs, crashes and reruns."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone, translation

from feedback.importers import open_table, suggestion_import
from feedback.models import Suggestion, content_fingerprint
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent

from .test_import_helpers import as_lists, fast_passwords, good_row, org, write_csv, write_xlsx  # noqa: F401

BAD = {
    10: {"乡镇(街道)": "月亮镇"},
    20: {"村(社区)": "和平社区"},  # a community of 南城区街道, not of 留早镇
    30: {"联系电话": "12345"},
    40: {"诉求内容": "字" * 5001},
    50: {"反映时间": "2021-02-30"},
    60: {"来源渠道": "微信"},
    70: {"承办单位": "外星局"},
}


def hundred_rows() -> list[list]:
    return as_lists([good_row(i, **BAD.get(i, {})) for i in range(1, 101)])


def run(path, **kwargs):
    with translation.override("en"):
        return suggestion_import(table=open_table(path), **kwargs)


def test_hundred_rows_with_seven_bad_import_ninety_three(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows(), encoding="gbk")
    result = run(path, actor=cast.registrar)
    assert result.summary() == "imported=93 duplicates=0 errors=7"
    # Spreadsheet row numbers: the header is row 1, data row i is row i + 1.
    assert [e.row for e in result.error_rows] == [11, 21, 31, 41, 51, 61, 71]
    assert result.error_rows[1].problems == [("村(社区)", "和平社区 belongs to 南城区街道, not to 留早镇.")]
    assert result.error_rows[3].problems[0][0] == "诉求内容" and "5001 characters" in result.error_rows[3].reason
    assert Suggestion.objects.count() == Task.objects.count() == 93
    assert not Suggestion.objects.filter(external_id__in=["RX00010", "RX00040"]).exists()


def test_imported_rows_look_like_registered_ones(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1, 联系电话="１３８ １２３４ ５６７８")]))
    run(path, actor=cast.registrar)
    suggestion = Suggestion.objects.select_related("task", "township", "village").get()
    assert suggestion.tracking_number.startswith("DZ20211025") and len(suggestion.tracking_number) == 18
    assert suggestion.content_fingerprint == content_fingerprint(suggestion.content)
    assert suggestion.phone == "13812345678"
    assert suggestion.received_at == timezone.make_aware(dt.datetime(2021, 10, 25, 9, 30))
    assert (suggestion.township.name, suggestion.village.name) == ("留早镇", "留早村")
    assert (suggestion.channel, suggestion.category, suggestion.urgency) == ("hotline", "complaint", "normal")
    assert suggestion.registered_by == cast.registrar
    task = suggestion.task
    assert task.state == State.REGISTERED and task.lead_department is None and task.deadline is None
    assert task.title.startswith("路灯不亮") and task.channel == "hotline" and task.township_id == suggestion.township_id
    event = TaskEvent.objects.get(task=task)
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        Action.REGISTER, cast.registrar, "", State.REGISTERED)
    assert event.data["tracking_number"] == suggestion.tracking_number


def test_row_with_department_is_assigned_with_its_deadline(tmp_path, org, cast):
    far = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    rows = as_lists([
        good_row(1, 承办单位="住建局"),
        good_row(2, 承办单位="chengguan", 办理时限="5个工作日"),
        good_row(3, 承办单位="住建局", 办理时限=far),
    ])
    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar)
    assert result.imported == 3
    by_number = {s.external_id: s.task for s in Suggestion.objects.select_related("task")}
    rule_task, days_task, date_task = by_number["RX00001"], by_number["RX00002"], by_number["RX00003"]
    for task in (rule_task, days_task, date_task):
        assert task.state == State.ASSIGNED and task.assigned_at is not None
        assert task.accept_deadline is not None and task.accept_deadline <= task.deadline
        actions = list(task.events.values_list("action", "from_state", "to_state"))
        assert actions == [(Action.REGISTER, "", State.REGISTERED), (Action.ASSIGN, State.REGISTERED, State.ASSIGNED)]
    assert rule_task.lead_department.code == "zhujian"
    assert days_task.lead_department.code == "chengguan"
    assert timezone.localdate(date_task.deadline).isoformat() == far
    assert days_task.deadline < rule_task.deadline  # 5 working days, against the rule's 13 for a complaint
    assign = date_task.events.get(action=Action.ASSIGN)
    assert assign.data["custom_deadline"] is True and assign.data["lead_department"] == date_task.lead_department_id
    assert assign.data["deadline_limits"] is None
    assert assign.actor == cast.registrar
    # The rule's limits are recorded with the assignment, as task_assign records them.
    limits = rule_task.events.get(action=Action.ASSIGN).data["deadline_limits"]
    assert limits["handle"] == [13, "working_days"] and limits["accept"] == [1, "working_days"]


def test_reimporting_the_same_file_imports_nothing_twice(tmp_path, org, cast):
    path = write_xlsx(tmp_path / "in.xlsx", hundred_rows())
    first = run(path, actor=cast.registrar)
    second = run(path, actor=cast.registrar)
    assert first.summary() == "imported=93 duplicates=0 errors=7"
    assert second.summary() == "imported=0 duplicates=93 errors=7"
    assert Suggestion.objects.count() == 93
    stored = Suggestion.objects.get(external_id="RX00001").tracking_number
    assert second.duplicate_rows[0].row == 2 and second.duplicate_rows[0].of == stored


def test_rows_without_number_are_duplicates_by_content_township_and_day(tmp_path, org, cast):
    text = "村口的垃圾桶满了没人清运"
    rows = as_lists([
        good_row(1, 编号="", 诉求内容=text),
        good_row(2, 编号="", 诉求内容=f" {text} "),  # same words, other spacing: the same fingerprint
        good_row(3, 编号="", 诉求内容=text, 反映时间="2021-10-25 18:00"),  # same day, later hour
        good_row(4, 编号="", 诉求内容=text, 反映时间="2021-10-26"),  # another day
        good_row(5, 编号="", 诉求内容=text, **{"乡镇(街道)": "南城区", "村(社区)": ""}),  # another township
        good_row(6, 诉求内容=text),  # has a number: numbers decide, not content
    ])
    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar)
    assert result.summary() == "imported=4 duplicates=2 errors=0"
    assert [(d.row, d.of) for d in result.duplicate_rows] == [(3, "row 2"), (4, "row 2")]


def test_same_number_in_another_channel_is_not_a_duplicate(tmp_path, org, cast):
    rows = as_lists([good_row(1), good_row(1, 来源渠道="阳光理政"), good_row(1, 诉求内容="另一件事")])
    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar)
    assert result.summary() == "imported=2 duplicates=1 errors=0"
    assert result.duplicate_rows[0].row == 4


def test_every_row_is_counted_exactly_once_across_batches(tmp_path, org, cast):
    rows = hundred_rows() + hundred_rows()[:30]  # 30 repeats of earlier rows, in later batches
    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar, batch_size=16)
    assert result.summary() == "imported=93 duplicates=27 errors=10"
    accounted = {e.row for e in result.error_rows} | {d.row for d in result.duplicate_rows}
    assert len(accounted) + result.imported == len(rows) == result.rows


def test_dry_run_writes_nothing_and_counts_the_same(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows() + hundred_rows()[:5])
    dry = run(path, actor=cast.registrar, dry_run=True, batch_size=20)
    assert Suggestion.objects.count() == Task.objects.count() == TaskEvent.objects.count() == 0
    real = run(path, actor=cast.registrar, batch_size=20)
    assert dry.summary() == real.summary() == "imported=93 duplicates=5 errors=7"
    assert [e.row for e in dry.error_rows] == [e.row for e in real.error_rows]


def test_only_registering_roles_may_import(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)]))
    with translation.override("en"), pytest.raises(DomainError):
        suggestion_import(table=open_table(path), actor=cast.handler_zhujian)
    assert run(path, actor=cast.supervisor).imported == 1
    assert Suggestion.objects.get().registered_by == cast.supervisor


class Crash(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_crash_mid_import_leaves_whole_batches_and_a_rerun_completes(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows())
    committed = []

    def crash_in_third_batch(batch):
        if len(committed) == 2:
            # Everything of this batch is written by now, inside its transaction.
            assert Suggestion.objects.filter(external_id=f"RX{batch.last_row - 1:05d}").exists()
            raise Crash
        committed.append(batch.last_row)

    with pytest.raises(Crash):
        run(path, actor=cast.registrar, batch_size=25, on_batch=crash_in_third_batch)
    # Batches of rows 2-26 and 27-51 stand whole (less their errors); nothing of 52-76.
    numbers = set(Suggestion.objects.values_list("external_id", flat=True))
    assert numbers == {f"RX{i:05d}" for i in range(1, 51) if i not in BAD}
    assert Task.objects.count() == TaskEvent.objects.count() == len(numbers) == 45

    rerun = run(path, actor=cast.registrar, batch_size=25)
    assert rerun.summary() == "imported=48 duplicates=45 errors=7"
    assert Suggestion.objects.count() == 93
    assert Task.objects.count() == TaskEvent.objects.count() == 93


@pytest.mark.django_db(transaction=True)
def test_resumed_run_skips_committed_rows_but_reports_their_errors(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows())
    with pytest.raises(Crash):
        run(path, actor=cast.registrar, batch_size=50,
            on_batch=lambda batch: (_ for _ in ()).throw(Crash) if batch.first_row > 2 else None)
    assert Suggestion.objects.count() == 45  # rows 2-51 committed
    resumed = run(path, actor=cast.registrar, batch_size=50, resume_after_row=51)
    assert resumed.summary() == "imported=48 duplicates=0 errors=2"
    assert resumed.resumed_rows == 50
    assert [e.row for e in resumed.error_rows] == [11, 21, 31, 41, 51, 61, 71]
    assert Suggestion.objects.count() == 93


def test_a_batch_hitting_a_unique_constraint_is_checked_and_written_again(tmp_path, org, cast, monkeypatch):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)]))
    run(path, actor=cast.registrar)
    taken = Suggestion.objects.get().tracking_number
    from feedback.importers import writer

    numbers = iter([[taken], ["DZ20211025AAAAAAAA"], ["DZ20211025BBBBBBBB"]])
    monkeypatch.setattr(writer, "tracking_numbers", lambda rows: next(numbers))
    # The first attempt draws a tracking number already stored and fails on its unique index.
    result = run(write_csv(tmp_path / "two.csv", as_lists([good_row(2)])), actor=cast.registrar)
    assert result.imported == 1
    assert Suggestion.objects.get(external_id="RX00002").tracking_number == "DZ20211025AAAAAAAA"


def test_postgres_batches_take_the_import_lock(tmp_path, org, cast, require_postgres):
    seen = []

    def lock_held(batch):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            seen.append(cursor.fetchone()[0])

    run(write_csv(tmp_path / "in.csv", as_lists([good_row(1)])), actor=cast.registrar, on_batch=lock_held)
    assert seen == [1]


def test_copy_and_bulk_create_write_the_same_rows(org, cast, require_postgres):
    from feedback.importers import writer
    from feedback.importers.columns import map_headers
    from feedback.importers.validate import Reference, validate_row
    from feedback.services import task_title

    from .test_import_helpers import HEADERS

    reference, now = Reference.load(), timezone.now()

    def rows(prefix):
        lines = as_lists([good_row(1, 编号=f"{prefix}1", 承办单位="住建局", 办理时限="3"),
                          good_row(2, 编号=f"{prefix}2", 诉求内容="带\t制表符\\和\n换行的内容", 联系电话="")])
        return [validate_row(n, cells, map_headers(HEADERS), reference, now=now)[0] for n, cells in enumerate(lines, 2)]

    writer.write_rows(rows("C"), user=cast.registrar, now=now, title=task_title, method="copy")
    writer.write_rows(rows("B"), user=cast.registrar, now=now, title=task_title, method="bulk")

    def snapshot(prefix):
        out = []
        for s in Suggestion.objects.filter(external_id__startswith=prefix).order_by("external_id"):
            values = {f.attname: getattr(s, f.attname) for f in Suggestion._meta.concrete_fields}
            task = {f.attname: getattr(s.task, f.attname) for f in Task._meta.concrete_fields}
            events = list(s.task.events.values("action", "actor_id", "at", "from_state", "to_state", "note", "data"))
            for event in events:
                event["data"] = {k: v for k, v in event["data"].items() if k not in ("suggestion", "tracking_number")}
            for d in (values, task):
                for key in ("id", "task_id", "tracking_number", "external_id"):
                    d.pop(key, None)
            out.append((values, task, events))
        return out

    assert snapshot("C") == snapshot("B")
    assert Suggestion.objects.get(external_id="C2").content == "带\t制表符\\和\n换行的内容"


def test_both_write_paths_store_the_bigrams_the_search_index_reads(org, cast, require_postgres):
    import importlib

    from feedback.importers import writer
    from feedback.importers.columns import map_headers
    from feedback.importers.validate import Reference, validate_row
    from feedback.services import task_title

    from .test_import_helpers import HEADERS

    with connection.cursor() as cursor:  # dz_bigrams, the SQL definition (tests run with --nomigrations)
        cursor.execute(importlib.import_module("tasks.migrations.0002_chinese_search").FORWARD_SQL[0])
    reference, now = Reference.load(), timezone.now()
    contents = ["路灯不亮", "他说'暖气'不热\\没人管", "带\t制表符和\n换行"]
    for method in ("copy", "bulk"):
        lines = as_lists([good_row(i, 编号=f"{method}{i}", 诉求内容=text) for i, text in enumerate(contents, 1)])
        rows = [validate_row(n, cells, map_headers(HEADERS), reference, now=now)[0] for n, cells in enumerate(lines, 2)]
        writer.write_rows(rows, user=cast.registrar, now=now, title=task_title, method=method)
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, content_bigrams IS NOT NULL AND content_bigrams = dz_bigrams(content)"
                       " FROM feedback_suggestion ORDER BY external_id")
        assert cursor.fetchall() == [(f"{m}{i}", True) for m in ("bulk", "copy") for i in (1, 2, 3)]


def test_a_batch_draws_tracking_numbers_as_a_single_registration_would(monkeypatch):
    import datetime as dt
    import zoneinfo

    from feedback.importers import writer
    from feedback.importers.validate import Row
    from feedback.models.suggestion import tracking_number

    noise = bytes(range(0, 256, 3))[:24]
    monkeypatch.setattr(writer.os, "urandom", lambda n: noise[:n])
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    # Late evening UTC is the next day in Shanghai; one received time is in another zone.
    times = [dt.datetime(2021, 10, 25, 9, 30, tzinfo=zone), dt.datetime(2021, 10, 25, 17, 0, tzinfo=dt.timezone.utc),
             dt.datetime(2021, 12, 31, 23, 59, tzinfo=zone)]
    rows = [Row(i, "", "hotline", at, "", "", 1, None, "内容", "suggestion", "normal", None, None, "f")
            for i, at in enumerate(times)]
    expected = [tracking_number(at, noise[8 * i: 8 * i + 8]) for i, at in enumerate(times)]
    assert writer.tracking_numbers(rows) == expected
    assert expected[1].startswith("DZ20211026")
