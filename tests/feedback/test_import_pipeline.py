"""The fast import: the row checker's shortcuts, the reading thread, batch commits and COPY details."""

import datetime as dt
import threading

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone, translation

from feedback.importers import cells, open_table, pg_copy, suggestion_import
from feedback.importers.columns import map_headers
from feedback.importers.pipeline import checked_chunks
from feedback.importers.validate import RowChecker, _fingerprint
from feedback.models import Suggestion, content_fingerprint
from tasks.models import Task, TaskEvent

from .test_import_helpers import HEADERS, as_lists, fast_passwords, good_row, org, write_csv  # noqa: F401
from .test_import_parse import NOW, reference
from .test_import_write import hundred_rows, run


def checked(**overrides):
    header = map_headers(HEADERS)
    with translation.override("en"):
        row, problems = RowChecker(header, reference(), now=NOW).check(2, as_lists([good_row(1, **overrides)])[0])
    return row, {header.header_of(field): message for field, message in problems}


def full_parser(parse, value):
    """What the general parser in cells.py makes of a cell: (value, None) or (None, message)."""
    with translation.override("en"):
        try:
            return parse(value), None
        except cells.CellError as exc:
            return None, str(exc)


# --- the checker's shortcuts give what the full parsers give ------------------------------


@pytest.mark.parametrize("value", [
    "2021-10-25 09:30", "2021-10-25T09:30:15", "2021-10-25", "2021-10-25 09:30:15.250", "2021-10-25\t09:30",
    "2021-10-25 09:30+08:00", "2021-10-25 09:30Z", "2021-11-02 10:00", "1999-12-31 10:00", "2021-02-30 10:00",
    "2021-10-25 9:30", " 2021-10-25 09:30", "2021/10/25 09:30",
])
def test_received_time_shortcut_agrees_with_the_full_parser(value):
    row, problems = checked(反映时间=value)
    expected, message = full_parser(lambda v: cells.parse_received_at(v, now=NOW), value)
    assert (row.received_at if row else None, problems.get("反映时间")) == (expected, message)


@pytest.mark.parametrize("value", ["13812345678", "１３８１２３４５６７８", "138 1234 5678", "+8613812345678",
                                   "12345678901", "0312-1234567", "1381234567", ""])
def test_phone_shortcut_agrees_with_the_full_parser(value):
    row, problems = checked(联系电话=value)
    expected, message = full_parser(cells.parse_phone, value)
    assert (row.phone if row else None, problems.get("联系电话")) == (expected, message)


@pytest.mark.parametrize("value", [" 张三 ", "张三\r\n", "'=张三", "'张三", "N" * 65, "", "王\t五"])
def test_name_shortcut_agrees_with_the_full_parser(value):
    row, problems = checked(诉求人=value)
    expected, message = full_parser(lambda v: cells.parse_text(v, max_length=64), value)
    assert (row.citizen_name if row else None, problems.get("诉求人")) == (expected, message)


@pytest.mark.parametrize("value", ["RX001", " RX  001 ", "ＲＸ００１", "GD-2021/001", "'=1", "a\tb", "N" * 65])
def test_number_shortcut_agrees_with_folding(value):
    row, problems = checked(编号=value)
    if len(cells.folded(value)) > 64:
        assert row is None and "65 characters" in problems["编号"]
    else:
        assert row.external_id == cells.folded(value)


@pytest.mark.parametrize("content", ["路灯 不亮", "路灯\u3000不亮\xa0了", " 路灯\t\r\n不亮 ", "\u2028路灯\x1c不亮", "无空白"])
def test_fingerprint_is_the_models(content):
    assert _fingerprint(content) == content_fingerprint(content)


def test_remembered_cells_keep_numbers_and_booleans_apart():
    header = map_headers(HEADERS)
    checker = RowChecker(header, reference(), now=NOW)
    line = as_lists([good_row(1, 承办单位="住建局")])[0]
    deadline = header.index["deadline"]
    with translation.override("en"):
        first = checker.check(2, line[:deadline] + [1.0] + line[deadline + 1:])
        second = checker.check(3, line[:deadline] + [True] + line[deadline + 1:])
    assert first[0].deadline == ("days", 1)
    assert second[0] is None  # True == 1.0 as dict keys, but TRUE is not a number of days


def test_a_new_day_checks_deadline_dates_again():
    header = map_headers(HEADERS)
    checker = RowChecker(header, reference(), now=NOW)
    line = as_lists([good_row(1, 承办单位="住建局", 办理时限="2021-11-02")])[0]
    assert checker.check(2, line)[0].deadline == ("date", dt.date(2021, 11, 2))
    checker.set_now(NOW + dt.timedelta(days=2))
    assert checker.check(3, line)[0] is None  # the same date has passed by now


# --- the reading thread ------------------------------------------------------------------


def test_chunks_hold_batch_size_rows_split_at_the_resume_point_and_mark_the_last(tmp_path):
    table = open_table(write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 31)])))
    checker = RowChecker(table.header, reference(), now=NOW)
    with checked_chunks(table, checker, batch_size=10, split_after=15) as chunks:
        got = [([number for number, *_ in chunk.rows], chunk.last) for chunk in chunks]
    assert got == [(list(range(2, 12)), False), ([12, 13, 14, 15], False), (list(range(16, 26)), False),
                   (list(range(26, 32)), True)]


class BrokenTable:
    """An opened file whose reading fails after `good` rows, as a truncated upload might."""

    def __init__(self, table, good):
        self.__dict__.update(table.__dict__)
        self._table, self._good = table, good

    def rows(self):
        for count, item in enumerate(self._table.rows()):
            if count == self._good:
                raise ValueError("the file ends in the middle of a row")
            yield item


def reader_threads():
    return [t for t in threading.enumerate() if t.name == "import-reader"]


@pytest.mark.django_db(transaction=True)
def test_a_reading_error_reaches_the_caller_after_whole_batches(tmp_path, org, cast):
    table = open_table(write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 51)])))
    with translation.override("en"), pytest.raises(ValueError, match="middle of a row"):
        suggestion_import(table=BrokenTable(table, 25), actor=cast.registrar, batch_size=10)
    assert Suggestion.objects.count() == 20  # two whole batches; the third never came
    assert not reader_threads()


def test_a_failing_batch_stops_the_reader(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 2001)]))

    def fail(batch):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run(path, actor=cast.registrar, batch_size=10, on_batch=fail)
    assert not reader_threads()
    assert not Suggestion.objects.exists()


def test_messages_come_in_the_callers_language_from_the_reading_thread(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1, 联系电话="12345")]))
    with translation.override("en"):
        result = suggestion_import(table=open_table(path), actor=cast.registrar)
    assert "is not a Chinese mobile number" in result.error_rows[0].reason


# --- duplicates across batches, and what is remembered ------------------------------------

# Batches of three: rows 2-4 and 5-7.
DUPLICATED = as_lists([good_row(1), good_row(2), good_row(3), good_row(1, 诉求人="李四"), good_row(4), good_row(4)])


def test_an_earlier_batchs_row_is_found_in_the_database_and_named_by_its_tracking_number(tmp_path, org, cast):
    result = run(write_csv(tmp_path / "in.csv", DUPLICATED), actor=cast.registrar, batch_size=3)
    assert result.summary() == "imported=4 duplicates=2 errors=0"
    stored = dict(Suggestion.objects.values_list("external_id", "tracking_number"))
    # Row 5 repeats row 2, committed in the batch before; row 7 repeats row 6 of its own batch.
    assert [(d.row, d.of) for d in result.duplicate_rows] == [(5, stored["RX00001"]), (7, "row 6")]


def test_a_dry_run_remembers_every_row_and_counts_as_the_import_will(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", DUPLICATED)
    dry = run(path, actor=cast.registrar, batch_size=3, dry_run=True)
    assert [(d.row, d.of) for d in dry.duplicate_rows] == [(5, "row 2"), (7, "row 6")]
    assert dry.summary() == run(path, actor=cast.registrar, batch_size=3).summary()


# --- PostgreSQL: commits and COPY ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_only_the_last_batch_waits_for_the_disk(tmp_path, org, cast, require_postgres):
    settings_seen = []

    def note(batch):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit')")
            settings_seen.append(cursor.fetchone()[0])

    run(write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 26)])), actor=cast.registrar,
        batch_size=10, on_batch=note)
    assert settings_seen == ["off", "off", "on"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone()[0] == "on"  # SET LOCAL: the session keeps its own setting


def test_copy_gives_left_out_fields_their_defaults(tmp_path, org, cast, require_postgres):
    rows = as_lists([good_row(1, 诉求内容="反斜杠\\、制表符\t和换行\n都在")])
    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar)
    assert result.imported == 1
    suggestion = Suggestion.objects.get()
    assert suggestion.content == "反斜杠\\、制表符\t和换行\n都在"
    assert (suggestion.source_system, suggestion.latitude) == ("", None)
    task = Task.objects.get()
    assert (task.extension_count, task.reply, task.outcome, task.merged_into_id) == (0, "", "", None)
    assert TaskEvent.objects.get().note == ""


@isolate_apps("feedback")
def test_copy_refuses_a_unique_field_it_would_give_one_default_for_a_whole_batch():
    import uuid

    class Ticket(models.Model):
        code = models.UUIDField(default=uuid.uuid4, unique=True)
        note = models.TextField(default="")

        class Meta:
            app_label = "feedback"

    fields, suffix = pg_copy._tail(Ticket, ("code",))
    assert [f.name for f in fields] == ["note"] and suffix == "\t\n"
    with pytest.raises(ValueError, match="code"):
        pg_copy._tail(Ticket, ("note",))


def test_hundred_rows_import_the_same_in_one_batch_or_many(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows())
    assert run(path, actor=cast.registrar, batch_size=7).summary() == "imported=93 duplicates=0 errors=7"
    assert run(path, actor=cast.registrar).summary() == "imported=0 duplicates=93 errors=7"
    assert Task.objects.count() == Suggestion.objects.count() == 93
    assert not Suggestion.objects.exclude(received_at=timezone.make_aware(dt.datetime(2021, 10, 25, 9, 30))).exists()


# --- two writers (PostgreSQL, no transaction of the caller's open) -----------------------


@pytest.mark.django_db(transaction=True)
def test_two_writers_take_turns_commit_in_order_and_see_each_others_rows(tmp_path, org, cast, require_postgres):
    rows = as_lists([good_row(1), good_row(2), good_row(3),  # batch of rows 2-4
                     good_row(1, 诉求人="李四"), good_row(4), good_row(5),  # 5-7: row 5 repeats row 2
                     good_row(1, 诉求人="王五"), good_row(6), good_row(7)])  # 8-10: row 8 repeats row 2 too
    seen = []

    def note(batch):
        with connection.cursor() as cursor:
            # The import lock is held by the importing connection, not by the writer's.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                           " AND pid <> pg_backend_pid()")
            seen.append((threading.current_thread().name, batch.first_row, cursor.fetchone()[0]))

    result = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar, batch_size=3, on_batch=note)
    assert seen == [("import-writer-0", 2, 1), ("import-writer-1", 5, 1), ("import-writer-0", 8, 1)]
    assert result.summary() == "imported=7 duplicates=2 errors=0"
    stored = Suggestion.objects.get(external_id="RX00001").tracking_number
    # Row 5's batch ran beside row 2's and learnt of it in memory; row 8's found it stored.
    assert [(d.row, d.of) for d in result.duplicate_rows] == [(5, "row 2"), (8, stored)]
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_with_two_writers_a_failed_batch_keeps_the_next_from_committing(tmp_path, org, cast, require_postgres):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 41)]))

    def fail_second(batch):
        if batch.first_row == 12:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run(path, actor=cast.registrar, batch_size=10, on_batch=fail_second)
    assert set(Suggestion.objects.values_list("external_id", flat=True)) == {f"RX{i:05d}" for i in range(1, 11)}
    assert Task.objects.count() == TaskEvent.objects.count() == 10
    assert run(path, actor=cast.registrar, batch_size=10).summary() == "imported=30 duplicates=10 errors=0"


# --- what a dry run remembers -----------------------------------------------------------


def test_seen_rows_keep_the_first_row_per_hash_through_growth():
    from feedback.importers.seen import SeenRows

    seen = SeenRows()
    keys = [("content", f"{i:040x}", i % 25, dt.date(2021, 1, 1)) for i in range(200_000)]
    for row, key in enumerate(keys, start=2):
        seen.add(hash(key), row)
    seen.add(hash(keys[0]), 999_999)  # a later row with the same key does not replace the first
    assert len(seen) == 200_000
    assert [seen.get(hash(keys[i])) for i in (0, 1, 65_535, 199_999)] == [2, 3, 65_537, 200_001]
    assert seen.get(hash(("content", "absent", 1, dt.date(2021, 1, 1)))) is None
    assert seen.get(0) is None and seen.get(-1) is None
    seen.add(-1, 7)  # negative hashes are hashes like any other
    assert seen.get(-1) == 7


def test_a_dry_run_of_many_batches_finds_repeats_from_long_before(tmp_path, org, cast):
    rows = as_lists([good_row(i) for i in range(1, 61)] + [good_row(1, 诉求人="李四"), good_row(30)])
    dry = run(write_csv(tmp_path / "in.csv", rows), actor=cast.registrar, batch_size=7, dry_run=True)
    assert dry.summary() == "imported=60 duplicates=2 errors=0"
    assert [(d.row, d.of) for d in dry.duplicate_rows] == [(62, "row 2"), (63, "row 31")]


@pytest.mark.django_db(transaction=True)
def test_a_batch_holding_up_the_one_before_it_rolls_back_and_is_written_again(
    tmp_path, org, cast, require_postgres, monkeypatch
):
    import time

    from feedback.importers import writer

    drawn = writer.tracking_numbers
    same = "DZ20211025SAMESAME"
    calls = []

    def numbers(rows):
        calls.append(rows[0].number)
        if len(calls) == 1:  # the first batch: let the second draw the same number and insert it first
            time.sleep(1)
            return [same] + drawn(rows[1:])
        if len(calls) == 2:
            return [same] + drawn(rows[1:])
        return drawn(rows)

    monkeypatch.setattr(writer, "tracking_numbers", numbers)
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(i) for i in range(1, 7)]))
    began = time.monotonic()
    result = run(path, actor=cast.registrar, batch_size=3)
    assert result.summary() == "imported=6 duplicates=0 errors=0"
    # The second batch inserted the number first, then waited for the first batch, which
    # waited for that number's transaction: the second rolled back and drew again.
    assert calls == [2, 5, 5]
    assert Suggestion.objects.get(external_id="RX00001").tracking_number == same
    assert Suggestion.objects.filter(tracking_number=same).count() == 1
    assert time.monotonic() - began < 10
