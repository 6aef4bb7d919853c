"""Exports of the task list: the same scope and filters as the page, CSV with a BOM, XLSX readable."""

import csv
import io

import openpyxl
from django.urls import reverse

from tasks.models import State

from ..factories import TaskFactory


def _tasks(departments, township):
    ours = TaskFactory(
        title="住建局的工单", state=State.ASSIGNED, lead_department=departments.zhujian, township=township
    )
    closed = TaskFactory(
        title="=HYPERLINK(1)", state=State.CLOSED, lead_department=departments.zhujian, township=township
    )
    theirs = TaskFactory(
        title="城管局的工单", state=State.ASSIGNED, lead_department=departments.chengguan, township=township
    )
    return ours, closed, theirs


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_handler_exports_only_own_department_tasks(client, cast, departments, township):
    ours, closed, theirs = _tasks(departments, township)
    client.force_login(cast.handler_zhujian)
    rows = _csv_rows(client.get(reverse("tasks:export_csv")))
    ids = {row[0] for row in rows[1:]}
    assert ids == {str(ours.pk), str(closed.pk)}
    assert str(theirs.pk) not in ids


def test_the_export_applies_the_list_filters_and_neutralises_formulas(client, cast, departments, township):
    ours, closed, theirs = _tasks(departments, township)
    client.force_login(cast.supervisor)
    rows = _csv_rows(client.get(reverse("tasks:export_csv"), {"state": State.CLOSED}))
    assert [row[0] for row in rows[1:]] == [str(closed.pk)]
    assert rows[1][2] == "'=HYPERLINK(1)"


def test_the_xlsx_export_opens_with_openpyxl(client, cast, departments, township):
    _tasks(departments, township)
    client.force_login(cast.supervisor)
    response = client.get(reverse("tasks:export_xlsx"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4  # the header and three tasks
    assert {row[2] for row in rows[1:]} == {"住建局的工单", "'=HYPERLINK(1)", "城管局的工单"}


def test_exports_need_a_login_and_refuse_post(client, cast):
    assert client.get(reverse("tasks:export_csv")).status_code == 302
    client.force_login(cast.supervisor)
    assert client.post(reverse("tasks:export_csv")).status_code == 405
