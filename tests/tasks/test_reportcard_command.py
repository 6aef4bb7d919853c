"""`manage.py report_card`: JSON with DOMAIN.md's code names, and clear errors with a non-zero exit."""

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from feedback.models import Callback, CallbackResult
from tasks.models import State

from ..factories import SuggestionFactory, TaskFactory

TZ = ZoneInfo("Asia/Shanghai")
CODES = [
    "received", "assigned", "closed", "closure_rate", "on_time_rate", "overdue", "timely_acceptance",
    "same_day_assignment", "satisfaction",
]


def run(*args):
    out = io.StringIO()
    with translation.override("en"):
        call_command("report_card", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def october(departments, township):
    at = lambda d, h=9: dt.datetime(2021, 10, d, h, tzinfo=TZ)  # noqa: E731
    closed = TaskFactory(
        suggestion=False, state=State.CLOSED, township=township, lead_department=departments.zhujian,
        assigned_at=at(11), accepted_at=at(11, 10), replied_at=at(13), closed_at=at(14), deadline=at(20),
    )
    late = TaskFactory(
        suggestion=False, state=State.IN_PROGRESS, township=township, lead_department=departments.zhujian,
        assigned_at=at(12), accepted_at=at(14), deadline=at(15),
    )
    TaskFactory(
        suggestion=False, state=State.ASSIGNED, township=township, lead_department=departments.chengguan,
        assigned_at=at(12),
    )
    for task in (closed, late):
        SuggestionFactory(task=task, township=township, received_at=at(10), registered_at=at(11, 8))
    Callback.objects.create(task=closed, result=CallbackResult.BASICALLY_SATISFIED, called_at=at(14, 8))
    return closed, late


def test_json_output_has_the_code_names_with_numbers(october):
    data = json.loads(run("--scope", "department", "住建", "--period", "2021-10", "--now", "2021-10-20T09:00"))
    assert [key for key in data if key in CODES] == CODES
    assert {key: data[key] for key in CODES} == {
        "received": 2,
        "assigned": 2,
        "closed": 1,
        "closure_rate": 0.5,
        "on_time_rate": 1.0,
        "overdue": 1,
        "timely_acceptance": 0.5,
        "same_day_assignment": 0.5,  # the late task was assigned the day after registration
        "satisfaction": 1.0,
    }
    assert data["details"]["closure_rate"] == {"numerator": 1, "denominator": 2}
    assert data["scope"] == {
        "kind": "department", "code": "department:zhujian", "id": october[0].lead_department_id, "name": "住建局",
        "department_code": "zhujian",
    }
    assert data["period"] == {"code": "2021-10", "kind": "month", "first": "2021-10-01", "last": "2021-10-31",
                              "label": "2021-10"}
    assert data["source"] == "live" and data["as_of"].endswith("+08:00")


def test_city_and_township_scopes(october):
    assert json.loads(run("--scope", "city", "--period", "2021-Q4"))["assigned"] == 3
    township = json.loads(run("--scope", "township", "留早", "--period", "2021", "--live"))
    assert township["assigned"] == 3 and township["scope"]["name"] == "留早镇"
    assert json.loads(run("--scope", "city", "--period", "2021-09"))["closure_rate"] is None


def test_rollups_can_be_refreshed_and_read(october):
    err = io.StringIO()
    call_command("report_card", "--refresh-rollups", stdout=io.StringIO(), stderr=err)
    assert "Rollups rebuilt as of" in err.getvalue()
    data = json.loads(run("--scope", "city", "--period", "2021-10", "--rollup"))
    assert data["source"] == "rollup" and data["assigned"] == 3


def test_json_can_go_to_a_file(october, tmp_path):
    path = tmp_path / "card.json"
    assert run("--scope", "city", "--period", "2021-10", "--output", str(path)) == ""
    assert json.loads(path.read_text(encoding="utf-8"))["received"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scope", "department", "不存在", "--period", "2021"], "There is no department 不存在"),
        (["--scope", "township", "不存在", "--period", "2021"], "There is no township 不存在"),
        (["--scope", "city", "--period", "2021-13"], "There is no month 13"),
        (["--scope", "city", "--period", "soon"], "soon is not a period"),
        (["--scope", "county", "--period", "2021"], "Unknown scope county"),
        (["--scope", "department", "a", "b", "--period", "2021"], "--scope takes a kind and at most one name"),
        (["--scope", "city"], "Give --scope"),
        (["--scope", "city", "--period", "2021", "--now", "noon"], "is not an ISO date-time"),
    ],
)
def test_bad_arguments_give_a_clear_error(db, departments, args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_pdf_output_writes_a_pdf(october, tmp_path):
    path = tmp_path / "card.pdf"
    run("--scope", "department", "住建局", "--period", "2021-10", "--format", "pdf", "--output", str(path))
    assert path.read_bytes().startswith(b"%PDF")


def test_an_error_exits_non_zero(db, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "report_card", "--scope", "department", "不存在", "--period", "2021"]).execute()
    assert exit_.value.code != 0
    assert "不存在" in capsys.readouterr().err
