"""The import_suggestions command: summary line, dry run, error report round trip, refusals."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from feedback.models import Suggestion

from .test_import_helpers import (  # noqa: F401
    HEADERS,
    as_lists,
    fast_passwords,
    good_row,
    org,
    write_csv,
    write_xlsx,
)
from .test_import_write import BAD, hundred_rows

FIXES = {"乡镇(街道)": "留早镇", "村(社区)": "留早村", "联系电话": "13812345678", "诉求内容": "已改短的内容",
         "反映时间": "2021-02-28", "来源渠道": "走访", "承办单位": "住建局"}


def command(*args) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import_suggestions", *map(str, args), stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_command_ends_with_the_summary_line_and_lists_first_errors(tmp_path, org, cast):
    path = write_csv(tmp_path / "in.csv", hundred_rows(), encoding="gb18030")
    lines, _ = command(path, "--user", "registrar")
    assert lines[-1] == "imported=93 duplicates=0 errors=7"
    assert lines[0].startswith("row 11: 乡镇(街道): 月亮镇 is not a known township")
    assert Suggestion.objects.filter(registered_by=cast.registrar).count() == 93
    lines, _ = command(path)
    assert lines[-1] == "imported=0 duplicates=93 errors=7"


def test_dry_run_writes_nothing(tmp_path, org):
    lines, err = command(write_csv(tmp_path / "in.csv", hundred_rows()), "--dry-run")
    assert lines[-1] == "imported=93 duplicates=0 errors=7"
    assert "Dry run" in err
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_error_report_round_trip_fix_and_import_again(tmp_path, org, extension):
    report = tmp_path / f"errors.{extension}"
    lines, err = command(write_xlsx(tmp_path / "in.xlsx", hundred_rows()), "--errors", report)
    assert lines[-1] == "imported=93 duplicates=0 errors=7" and str(report) in err

    header, rows = read_back(report)
    assert header == HEADERS + ["Source row", "Error reason"]
    assert [r[-2] for r in rows] == ["11", "21", "31", "41", "51", "61", "71"]
    assert "月亮镇 is not a known township" in rows[0][-1]
    assert rows[0][:12] == as_lists([good_row(10, **BAD[10])])[0]  # the original cells, as written

    # Imported unchanged, the report is refused row by row again, and its extra columns are not "unknown".
    lines, err = command(report)
    assert lines[-1] == "imported=0 duplicates=0 errors=7" and "Unknown columns" not in err

    fixed = tmp_path / f"fixed.{extension}"
    fixed_rows = []
    for row in rows:
        for column, value in FIXES.items():
            position = HEADERS.index(column)
            if column in row[-1]:
                row[position] = value
        fixed_rows.append(row)
    write_back(fixed, header, fixed_rows)
    lines, _ = command(fixed)
    assert lines[-1] == "imported=7 duplicates=0 errors=0"
    assert Suggestion.objects.count() == 100
    lines, _ = command(write_xlsx(tmp_path / "again.xlsx", hundred_rows()))
    assert lines[-1] == "imported=0 duplicates=93 errors=7"


def read_back(path):
    if path.suffix == ".csv":
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    else:
        sheet = load_workbook(path).active
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def write_back(path, header, rows):
    if path.suffix == ".csv":
        write_csv(path, rows, header, encoding="utf-8-sig")
    else:
        write_xlsx(path, rows, header)


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_formula_like_content_is_reported_as_text_and_comes_back_unchanged(tmp_path, org, extension):
    formula = '=HYPERLINK("http://evil.example","点我")'
    report = tmp_path / f"errors.{extension}"
    command(write_csv(tmp_path / "in.csv", as_lists([good_row(1, 诉求内容=formula, 联系电话="+86 1")])),
            "--errors", report)
    if extension == "csv":
        assert "'=HYPERLINK" in report.read_text(encoding="utf-8-sig")
    else:
        cell = load_workbook(report).active["H2"]
        assert cell.data_type == "s" and cell.value == formula
    header, rows = read_back(report)
    rows[0][4] = "13812345678"
    write_back(tmp_path / f"fixed.{extension}", header, rows)
    lines, _ = command(tmp_path / f"fixed.{extension}")
    assert lines[-1] == "imported=1 duplicates=0 errors=0"
    assert Suggestion.objects.get().content == formula


def test_named_sheet_and_unknown_columns(tmp_path, org):
    headers = HEADERS + ["备注"]
    path = write_xlsx(tmp_path / "in.xlsx", [as_lists([good_row(1)])[0] + ["老病号"]], headers, sheet="数据",
                      more_sheets=["封面"])
    lines, err = command(path, "--sheet", "数据")
    assert lines[-1] == "imported=1 duplicates=0 errors=0"
    assert "Unknown columns, not imported: 备注" in err


@pytest.mark.parametrize(
    "content, fragment",
    [(b"", "The file is empty."), (b"\x89PNG\r\n\x1a\n\x00\x00", "not a spreadsheet"),
     ("编号,来源渠道\n1,走访\n".encode(), "lacks the required column")],
)
def test_bad_files_are_refused_before_anything_is_written(tmp_path, org, content, fragment):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=fragment):
        command(path)
    assert not Suggestion.objects.exists()


def test_missing_file_and_unknown_user_are_refused(tmp_path, org):
    with pytest.raises(CommandError, match="no file"):
        command(tmp_path / "nope.csv")
    with pytest.raises(CommandError, match="no user"):
        command(write_csv(tmp_path / "in.csv", as_lists([good_row(1)])), "--user", "ghost")


def test_a_role_that_may_not_register_is_refused(tmp_path, org, cast):
    with pytest.raises(CommandError):
        command(write_csv(tmp_path / "in.csv", as_lists([good_row(1)])), "--user", "handler-zhujian")
    assert not Suggestion.objects.exists()
