"""Exports of the suggestion list (CSV with BOM, XLSX) and the generic streaming export behind them."""

import csv
import datetime as dt
import io
import tracemalloc

import openpyxl
import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback import exports
from feedback.exports import Column, Export, csv_response, neutralise
from feedback.models import Channel, Suggestion, content_fingerprint, new_tracking_number
from tasks.models import State, Task

from ..factories import SuggestionFactory, TaskFactory
from .test_suggestion_list import suggestion, world  # noqa: F401  (fixture)

CSV_URL = reverse("feedback:export_csv")
XLSX_URL = reverse("feedback:export_xlsx")
FORMULAS = ["=1+1", "+8613812345678", "-2+3", "@SUM(A1)", "\t=cmd", "\r=1"]


@pytest.fixture
def client_en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def export_csv(client, user, **params) -> list[list[str]]:
    client.force_login(user)
    response = client.get(CSV_URL, params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    return csv_rows(response)


def column(rows, header) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


# --- The suggestion list's exports ------------------------------------------------------------------


def test_csv_has_a_bom_a_header_and_the_filtered_rows_newest_first(client_en, cast, world):
    rows = export_csv(client_en, cast.supervisor, channel=Channel.HOTLINE)
    assert rows[0][:3] == ["Tracking number", "External number", "Channel"]
    assert column(rows, "Tracking number") == [
        s.tracking_number for s in (world.merged, world.unassigned, world.assisted, world.zhujian)]
    assert set(column(rows, "Channel")) == {"12345 hotline"}
    assert column(rows, "Content")[-1] == world.zhujian.content
    assert column(rows, "Task state")[1] == "registered"
    assert column(rows, "Lead department")[:3] == ["住建局", "", "住建局"]


def test_csv_search_and_ignored_paging_parameters(client_en, cast, world):
    rows = export_csv(client_en, cast.supervisor, q="路灯", page=2, sort="received_at")
    assert column(rows, "Tracking number") == [world.assisted.tracking_number, world.chengguan.tracking_number]


@pytest.mark.parametrize(
    "who, expected",
    [
        ("supervisor", {"zhujian", "chengguan", "assisted", "unassigned", "merged"}),
        ("handler_chengguan", {"chengguan", "assisted"}),
        ("head_zhujian", {"zhujian", "assisted", "merged"}),
        ("registrar", {"zhujian", "assisted", "unassigned"}),
        ("outsider", set()),
    ],
)
def test_exports_keep_each_roles_scope(client_en, cast, world, who, expected):
    numbers = {getattr(world, name).tracking_number for name in expected}
    rows = export_csv(client_en, getattr(cast, who))
    assert set(column(rows, "Tracking number")) == numbers
    client_en.force_login(getattr(cast, who))
    xlsx = xlsx_rows(client_en.get(XLSX_URL))
    assert {row[0] for row in xlsx[1:]} == numbers


@pytest.mark.parametrize(
    "who, in_full",
    [("supervisor", {"zhujian", "chengguan", "assisted"}), ("leader", set()),
     ("handler_chengguan", {"chengguan", "assisted"}), ("registrar", {"zhujian", "assisted"})],
)  # fmt: skip
def test_exports_mask_citizens_as_the_list_does(client_en, cast, world, who, in_full):
    rows = export_csv(client_en, getattr(cast, who))
    phones = dict(zip(column(rows, "Tracking number"), column(rows, "Phone")))
    names = dict(zip(column(rows, "Tracking number"), column(rows, "Citizen")))
    for name in ("zhujian", "chengguan", "assisted"):
        item = getattr(world, name)
        if item.tracking_number not in phones:
            continue
        full = name in in_full
        assert phones[item.tracking_number] == (item.phone if full else item.masked_phone), (who, name)
        assert names[item.tracking_number] == (item.citizen_name if full else item.masked_name), (who, name)


def test_xlsx_is_readable_with_real_dates_and_masked_citizens(client_en, cast, world):
    client_en.force_login(cast.leader)
    response = client_en.get(XLSX_URL, {"township": "南城区"})
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    rows = xlsx_rows(response)
    header, (row,) = rows[0], rows[1:]
    values = dict(zip(header, row))
    assert values["Tracking number"] == world.chengguan.tracking_number
    assert values["Phone"] == "139****1111" and values["Citizen"] == "李*"
    assert values["Received at"] == timezone.localtime(world.chengguan.received_at).replace(
        tzinfo=None, second=0, microsecond=0) or isinstance(values["Received at"], dt.datetime)
    assert isinstance(values["Received at"], dt.datetime)
    assert values["Channel"] == "Sunshine Governance board"
    assert values["Task No."] == world.chengguan.task_id


def test_formula_like_content_is_exported_as_text(client_en, cast, township):
    task = TaskFactory(suggestion=False, township=township)
    for text in FORMULAS:
        suggestion(task, content=text, citizen_name="=HYPERLINK(\"http://x\")", registered_by=cast.registrar)
    client_en.force_login(cast.supervisor)

    csv_contents = column(export_csv(client_en, cast.supervisor), "Content")
    assert sorted(csv_contents) == sorted("'" + text for text in FORMULAS)
    assert "'=1+1" in csv_contents

    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(client_en.get(XLSX_URL).streaming_content)))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    cells = [row[header.index("Content")] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return back as a line feed.
    assert sorted(cell.value for cell in cells) == sorted("'" + text.replace("\r", "\n") for text in FORMULAS)
    assert all(cell.data_type == "s" for cell in cells)  # text, never a formula
    names = [row[header.index("Citizen")].value for row in sheet.iter_rows(min_row=2)]
    assert set(names) == {"'=HYPERLINK(\"http://x\")"}


def test_control_characters_do_not_break_the_workbook(client_en, cast, township):
    SuggestionFactory(township=township, content="路灯\x01不亮\x1b了", registered_by=cast.registrar)
    client_en.force_login(cast.registrar)
    rows = xlsx_rows(client_en.get(XLSX_URL))
    assert rows[1][rows[0].index("Content")] == "路灯不亮了"


def test_anonymous_visitors_cannot_export(client):
    assert client.get(CSV_URL).status_code == 302
    assert client.get(XLSX_URL).status_code == 302


def test_an_invalid_filter_exports_no_rows(client_en, cast, world):
    assert export_csv(client_en, cast.supervisor, channel="fax")[1:] == []


# --- Streaming ----------------------------------------------------------------------------------------


def test_the_csv_is_read_and_sent_one_chunk_at_a_time(client_en, cast, township, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    for _ in range(5):
        SuggestionFactory(township=township, registered_by=cast.registrar)
    client_en.force_login(cast.registrar)
    response = client_en.get(CSV_URL)
    pieces = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        assert next(pieces) == b"\xef\xbb\xbf"
        first = next(pieces).decode()
        # One batch read (and one masking query for it), not the whole list.
        assert len(first.strip().splitlines()) == 1 + 2
        assert sum('"tasks_taskassist"' in q["sql"] for q in queries) == 1
        rest = b"".join(pieces).decode()
    assert len(rest.strip().splitlines()) == 3
    assert sum('"tasks_taskassist"' in q["sql"] for q in queries) == 3  # ceil(5 / 2) batches


def _bulk_suggestions(task, n: int) -> None:
    now = timezone.now()
    rows = []
    for i in range(n):
        content = f"小区路灯坏了很久，晚上出行不便，请尽快修复。编号{i}" * 3
        rows.append(Suggestion(
            tracking_number=new_tracking_number(now), channel=Channel.HOTLINE, received_at=now, registered_at=now,
            citizen_name="张三", phone="13812345678", township=task.township, content=content,
            content_fingerprint=content_fingerprint(content), task=task,
        ))  # fmt: skip
    Suggestion.objects.bulk_create(rows, batch_size=500)


def _peak_while_streaming(client) -> tuple[int, int]:
    response = client.get(CSV_URL)
    tracemalloc.start()
    try:
        size = sum(len(piece) for piece in response.streaming_content)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_memory_while_streaming_does_not_grow_with_the_rows(client_en, cast, township, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)
    task = TaskFactory(suggestion=False, township=township)
    client_en.force_login(cast.supervisor)
    _bulk_suggestions(task, 1000)
    small_peak, small_size = _peak_while_streaming(client_en)
    _bulk_suggestions(task, 4000)
    large_peak, large_size = _peak_while_streaming(client_en)
    assert large_size > 4.5 * small_size
    # Five times the rows: if memory followed the rows the peak would grow about fivefold.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


# --- The generic export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_neutralise_quotes_what_a_spreadsheet_would_run(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["路灯不亮", "0312-1234567", "13812345678", "a=b", " =1", ""])
def test_neutralise_leaves_ordinary_text_alone(text):
    assert neutralise(text) == text


def test_a_column_needs_a_field_or_a_value_function():
    with pytest.raises(ValueError):
        Column("Nothing")


def test_the_export_works_for_any_queryset_with_choices_batches_and_local_times(db, township):
    when = timezone.make_aware(dt.datetime(2021, 10, 25, 9, 30))
    tasks = [TaskFactory(township=township, state=state, created_at=when) for state in (State.CLOSED, State.ASSIGNED)]
    prepared = []

    def prepare(rows):
        prepared.append([row["id"] for row in rows])
        return {row["id"]: "batch" for row in rows}

    export = Export(
        Task.objects.order_by("id"),
        [
            Column("No.", "id"),
            Column("State", "state", choices=State.choices),
            Column("Registered", "created_at"),
            Column("Town", "township__name"),
            Column("Note", needs=("id",), value=lambda row, batch: batch[row["id"]]),
            Column("Deadline", "deadline"),
        ],
        prepare=prepare,
        chunk_size=1,
    )
    response = csv_response(export, "tasks")
    rows = csv_rows(response)
    assert rows == [
        ["No.", "State", "Registered", "Town", "Note", "Deadline"],
        [str(tasks[0].pk), "closed", "2021-10-25 09:30", township.name, "batch", ""],
        [str(tasks[1].pk), "assigned", "2021-10-25 09:30", township.name, "batch", ""],
    ]
    assert prepared == [[tasks[0].pk], [tasks[1].pk]]
    assert response["Content-Disposition"] == 'attachment; filename="tasks.csv"'
