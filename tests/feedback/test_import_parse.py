"""Reading and checking import files without the database: formats, encodings, headers, cells, rows."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from feedback.importers import cells, open_table
from feedback.importers.validate import Dept, Reference, validate_row
from tasks.errors import DomainError

from .test_import_helpers import ENGLISH, HEADERS, as_lists, csv_bytes, good_row, write_csv, write_xlsx

NOW = timezone.make_aware(dt.datetime(2021, 11, 1, 12, 0))


def rows_of(table):
    return list(table.rows())


def refused(path, **kwargs) -> str:
    with translation.override("en"), pytest.raises(DomainError) as caught:
        open_table(path, **kwargs)
    assert caught.value.field == "file"
    return str(caught.value)


# --- encodings and formats -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_excel_writes_is_detected(tmp_path, encoding):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1), good_row(2, 诉求人="李四")]), encoding=encoding)
    table = open_table(path)
    assert table.kind == "csv"
    assert table.header.headers == HEADERS
    numbers_and_names = [(n, cells[3]) for n, cells in rows_of(table)]
    assert numbers_and_names == [(2, "张三"), (3, "李四")]
    assert rows_of(table)[0][1][7].startswith("路灯不亮，")


def test_gb18030_only_characters_survive(tmp_path):
    # 𠮷 is outside GBK: only GB18030 (four-byte form) encodes it.
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1, 诉求人="𠮷祥")]), encoding="gb18030")
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert rows_of(table)[0][1][3] == "𠮷祥"


def test_gbk_file_with_ascii_first_megabyte_is_still_detected(tmp_path):
    filler = [good_row(i, 诉求人="Zhang", 诉求内容="street lamp " * 20, **{"乡镇(街道)": "liuzao", "村(社区)": ""})
              for i in range(600)]
    path = write_csv(tmp_path / "in.csv", as_lists(filler + [good_row(999, 诉求人="王五")]), encoding="gbk")
    assert path.stat().st_size > 64 * 1024
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert rows_of(table)[-1][1][3] == "王五"


def test_tab_and_semicolon_delimited_files(tmp_path):
    for delimiter in ("\t", ";"):
        path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)]), delimiter=delimiter)
        table = open_table(path)
        assert table.delimiter == delimiter
        assert rows_of(table)[0][1][5] == "留早镇"


def test_excel_unicode_text_utf16_is_read(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(csv_bytes(as_lists([good_row(1)]), encoding="utf-16", delimiter="\t"))
    table = open_table(path)
    assert rows_of(table)[0][1][3] == "张三"


def test_xlsx_keeps_date_cells_and_numbers(tmp_path):
    row = as_lists([good_row(1)])[0]
    row[0] = 20211025001  # a number, stored as a number
    row[2] = dt.datetime(2021, 10, 25, 9, 30)
    row[4] = 13812345678
    path = write_xlsx(tmp_path / "in.xlsx", [row])
    table = open_table(path)
    (number, cells_), = rows_of(table)
    assert table.kind == "xlsx" and number == 2
    assert cells_[2] == dt.datetime(2021, 10, 25, 9, 30)
    assert cells.as_text(cells_[0]) == "20211025001"
    assert cells.parse_phone(cells_[4]) == "13812345678"


def test_xlsx_named_sheet_and_title_rows_above_the_header(tmp_path):
    path = write_xlsx(
        tmp_path / "in.xlsx", as_lists([good_row(1)]), sheet="十月", more_sheets=["说明"],
        above=[["2021年10月走访诉求登记表"], []],
    )
    table = open_table(path, sheet="十月")
    assert table.header_row == 3
    assert [n for n, _ in rows_of(table)] == [4]
    assert "说明" in refused(path, sheet="十一月")


def test_xlsx_renamed_csv_is_read_as_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "in.xlsx", as_lists([good_row(1)]))
    renamed = tmp_path / "really.csv"
    renamed.write_bytes(path.read_bytes())
    assert open_table(renamed).kind == "xlsx"


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet(tmp_path):
    path = write_csv(tmp_path / "in.csv", [as_lists([good_row(1)])[0], [""] * 12, as_lists([good_row(2)])[0]])
    assert [n for n, _ in rows_of(open_table(path))] == [2, 4]


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \r\n"])
def test_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert refused(path) == "The file is empty."


def test_png_renamed_csv_is_refused_as_not_a_spreadsheet(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    message = refused(path)
    assert "not a spreadsheet" in message and "PNG" in message


def test_binary_junk_is_refused(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(5000)))
    assert "not a spreadsheet" in refused(path) or "neither UTF-8 nor GBK" in refused(path)


def test_broken_zip_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 100)
    assert "could not be read as a spreadsheet" in refused(path)


def test_missing_required_column_is_refused_naming_it(tmp_path):
    headers = [h for h in HEADERS if h != "乡镇(街道)"]
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)], headers), headers)
    message = refused(path)
    assert "乡镇(街道)" in message and "required" in message


def test_text_that_is_not_a_table_is_refused_by_its_missing_columns(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Dear colleague,\nplease find the figures attached.\n", encoding="utf-8")
    message = refused(path)
    assert "来源渠道" in message and "Dear colleague" in message


def test_two_columns_for_one_field_are_refused(tmp_path):
    headers = HEADERS + ["content"]
    path = write_csv(tmp_path / "in.csv", [as_lists([good_row(1)])[0] + ["x"]], headers)
    assert "both hold" in refused(path)


# --- headers ----------------------------------------------------------------------------


def test_english_headers_in_another_order_with_stray_spaces_and_full_width_forms(tmp_path):
    order = list(reversed(range(12)))
    headers = [ENGLISH[i] for i in order]
    headers[0] = " Deadline "
    headers[4] = "ＣＯＮＴＥＮＴ"  # full-width letters
    headers[6] = "Township *"
    rows = [[as_lists([good_row(1)])[0][i] for i in order]]
    table = open_table(write_csv(tmp_path / "in.csv", rows, headers, encoding="utf-8-sig"))
    assert table.header.index["content"] == 4
    assert table.header.index["township"] == 6
    assert table.header.header_of("content") == "ＣＯＮＴＥＮＴ"
    assert table.header.unknown == []


def test_full_width_brackets_and_spaces_in_chinese_headers(tmp_path):
    headers = [h.replace("(", "（").replace(")", "）") for h in HEADERS]
    headers[7] = "　诉求内容　"
    table = open_table(write_csv(tmp_path / "in.csv", as_lists([good_row(1)]), headers))
    assert table.header.index["township"] == 5 and table.header.index["content"] == 7


def test_unknown_columns_are_reported_not_dropped(tmp_path):
    headers = HEADERS + ["回访结果", ""]
    table = open_table(write_csv(tmp_path / "in.csv", [as_lists([good_row(1)])[0] + ["满意", ""]], headers))
    assert table.header.unknown == ["回访结果"]


# --- cells ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2021-10-25", dt.datetime(2021, 10, 25)),
        ("2021/10/25", dt.datetime(2021, 10, 25)),
        ("2021/1/5", dt.datetime(2021, 1, 5)),
        ("2021.10.25", dt.datetime(2021, 10, 25)),
        ("20211025", dt.datetime(2021, 10, 25)),
        ("2021年10月25日", dt.datetime(2021, 10, 25)),
        ("2021-10-25 09:30", dt.datetime(2021, 10, 25, 9, 30)),
        ("2021-10-25T09:30:15", dt.datetime(2021, 10, 25, 9, 30, 15)),
        ("2021/10/25 9:05:00", dt.datetime(2021, 10, 25, 9, 5)),
        ("2021年10月25日 14:20", dt.datetime(2021, 10, 25, 14, 20)),
        ("2021年10月25日14时20分", dt.datetime(2021, 10, 25, 14, 20)),
        ("２０２１年１０月２５日", dt.datetime(2021, 10, 25)),  # full-width digits
        (" 2021-10-25 ", dt.datetime(2021, 10, 25)),
        ("44494", dt.datetime(2021, 10, 25)),  # an Excel serial number as text
        (44494.5, dt.datetime(2021, 10, 25, 12, 0)),  # a number cell
        (dt.datetime(2021, 10, 25, 8, 0), dt.datetime(2021, 10, 25, 8, 0)),  # a date cell
        (dt.date(2021, 10, 25), dt.datetime(2021, 10, 25)),
    ],
)
def test_received_at_in_every_form(value, expected):
    assert cells.parse_received_at(value, now=NOW) == timezone.make_aware(expected)


@pytest.mark.parametrize("value", ["2021-02-30", "25/10/2021", "昨天", "2021-10-25 25:00", "1999-12-31", "2022-01-01", ""])
def test_bad_received_at_is_an_error(value):
    with translation.override("en"), pytest.raises(cells.CellError):
        cells.parse_received_at(value, now=NOW)


def test_future_received_at_names_the_problem():
    with translation.override("en"), pytest.raises(cells.CellError, match="in the future"):
        cells.parse_received_at("2021-11-02", now=NOW)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", None),
        (10, ("days", 10)),
        (10.0, ("days", 10)),
        ("10", ("days", 10)),
        ("１０个工作日", ("days", 10)),
        ("10工作日", ("days", 10)),
        ("10 working days", ("days", 10)),
        ("2021-11-20", ("date", dt.date(2021, 11, 20))),
        ("2021年11月20日", ("date", dt.date(2021, 11, 20))),
        (dt.datetime(2021, 11, 20), ("date", dt.date(2021, 11, 20))),
        (44520, ("date", dt.date(2021, 11, 20))),
    ],
)
def test_deadline_as_date_or_working_days(value, expected):
    assert cells.parse_deadline(value, NOW.date()) == expected


@pytest.mark.parametrize("value", ["2021-10-01", "0", "2.5", "300个工作日", "下周"])
def test_bad_deadline_is_an_error(value):
    with translation.override("en"), pytest.raises(cells.CellError):
        cells.parse_deadline(value, NOW.date())


def test_text_keeps_chinese_punctuation_and_checks_length():
    assert cells.parse_text("  路灯坏了，请修！\r\n谢谢 ", max_length=5000) == "路灯坏了，请修！\n谢谢"
    with translation.override("en"), pytest.raises(cells.CellError, match="5001 characters"):
        cells.parse_text("字" * 5001, max_length=5000)


def test_formula_guard_apostrophe_of_our_error_report_is_removed():
    assert cells.as_text("'=1+1") == "=1+1"
    assert cells.as_text("'好") == "'好"


# --- whole rows -------------------------------------------------------------------------


def reference() -> Reference:
    return Reference(
        townships={"留早镇": 1, "留早": 1, "南城区街道": 2, "南城区": 2},
        township_names={1: "留早镇", 2: "南城区街道"},
        villages={(1, "留早村"): 11, (2, "和平社区"): 21},
        village_townships={"留早村": [1], "和平社区": [2]},
        departments={
            "住建局": Dept(5, "住建局", True, False), "zhujian": Dept(5, "住建局", True, False),
            "问政办": Dept(6, "问政办", True, True), "旧水务局": Dept(7, "旧水务局", False, False),
        },
    )


def check(**overrides):
    from feedback.importers.columns import map_headers

    header = map_headers(HEADERS)
    with translation.override("en"):
        row, problems = validate_row(7, as_lists([good_row(1, **overrides)])[0], header, reference(), now=NOW)
        return row, {header.header_of(field) if field else "": message for field, message in problems}


def test_good_row_becomes_model_values():
    row, problems = check(**{"乡镇(街道)": "留早", "联系电话": "+86 138-1234-5678", "承办单位": "zhujian",
                              "办理时限": "10", "来源渠道": "hotline", "诉求类别": "", "紧急程度": "紧急"})
    assert problems == {}
    assert (row.number, row.township_id, row.village_id, row.department_id) == (7, 1, 11, 5)
    assert (row.channel, row.category, row.urgency) == ("hotline", "suggestion", "urgent")
    assert row.phone == "13812345678" and row.deadline == ("days", 10)
    assert row.duplicate_key() == ("number", "hotline", "RX00001")


def test_row_without_number_is_keyed_by_content_township_and_day():
    row, _ = check(编号="")
    assert row.duplicate_key() == ("content", row.fingerprint, 1, dt.date(2021, 10, 25))


@pytest.mark.parametrize(
    "overrides, column, fragment",
    [
        ({"乡镇(街道)": "月亮镇"}, "乡镇(街道)", "not a known township"),
        ({"乡镇(街道)": ""}, "乡镇(街道)", "required"),
        ({"村(社区)": "和平社区"}, "村(社区)", "belongs to 南城区街道, not to 留早镇"),
        ({"村(社区)": "无名村"}, "村(社区)", "not a known village"),
        ({"联系电话": "12345"}, "联系电话", "not a Chinese mobile number"),
        ({"诉求内容": "字" * 5001}, "诉求内容", "5001 characters"),
        ({"诉求内容": "   "}, "诉求内容", "required"),
        ({"来源渠道": "微信"}, "来源渠道", "not one of"),
        ({"诉求类别": "表扬"}, "诉求类别", "not one of"),
        ({"承办单位": "问政办"}, "承办单位", "dispatches tasks"),
        ({"承办单位": "旧水务局"}, "承办单位", "no longer active"),
        ({"承办单位": "外星局"}, "承办单位", "not a known department"),
        ({"办理时限": "5"}, "办理时限", "needs a department"),
        ({"编号": "N" * 65}, "编号", "65 characters"),
    ],
)
def test_bad_cell_is_named_by_its_column(overrides, column, fragment):
    row, problems = check(**overrides)
    assert row is None
    assert fragment in problems[column]


def test_every_bad_cell_of_a_row_is_reported():
    row, problems = check(**{"乡镇(街道)": "月亮镇", "联系电话": "abc", "反映时间": "昨天"})
    assert row is None and set(problems) == {"乡镇(街道)", "联系电话", "反映时间"}


def test_cells_beyond_the_header_are_an_error():
    from feedback.importers.columns import map_headers

    header = map_headers(HEADERS)
    cells_ = as_lists([good_row(1)])[0] + ["多出来的"]
    with translation.override("en"):
        row, problems = validate_row(2, cells_, header, reference(), now=NOW)
    assert row is None and "more cells than the header row" in problems[0][1]
