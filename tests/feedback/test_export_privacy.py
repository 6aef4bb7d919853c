"""Exports and citizens' phones: unmasked only for who may see them, and one log row per export that held any."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.exports import csv_stream
from feedback.models import PhoneView, Suggestion
from feedback.privacy import ExportTally
from feedback.tables import suggestion_export
from tasks.models import State, TaskAssist

from ..factories import SuggestionFactory, TaskFactory


@pytest.fixture
def items(cast, departments, township):
    """A 住建局 task with two citizens (one without a phone), a 城管局 task, and an unassigned one the registrar typed in."""
    now = timezone.now()

    def task(department, phone, **kwargs):
        made = TaskFactory(
            state=State.ACCEPTED if department else State.REGISTERED, lead_department=department,
            township=township, assigned_at=now if department else None, suggestion__phone=phone, **kwargs,
        )
        return made.suggestions.get()

    zhujian = task(departments.zhujian, "13811110001")
    no_phone = SuggestionFactory(task=zhujian.task, township=township, phone="", citizen_name="无电话")
    chengguan = task(departments.chengguan, "13822220002")
    TaskAssist.objects.create(task=chengguan.task, department=departments.zhujian,
                              deadline=now + dt.timedelta(days=3))
    registered = task(None, "13833330003")
    Suggestion.objects.filter(pk=registered.pk).update(registered_by=cast.registrar)
    registered.refresh_from_db()
    return {"zhujian": zhujian, "no_phone": no_phone, "chengguan": chengguan, "registered": registered}


def phones(rows) -> dict:
    header = rows[0]
    number, phone = header.index("Tracking number"), header.index("Phone")
    return {row[number]: row[phone] or "" for row in rows[1:]}


def get_csv(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("feedback:export_csv"), params, HTTP_ACCEPT_LANGUAGE="en")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def get_xlsx(client, user):
    client.force_login(user)
    response = client.get(reverse("feedback:export_xlsx"), HTTP_ACCEPT_LANGUAGE="en")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [[cell if cell is not None else "" for cell in row]
            for row in workbook.worksheets[0].iter_rows(values_only=True)]


# role -> the items whose phone the role's export shows unmasked (the others it lists are masked)
EXPECTED = {
    "supervisor": {"zhujian", "chengguan", "registered"},
    "handler_zhujian": {"zhujian", "chengguan"},  # leads one, assists the other
    "handler_chengguan": {"chengguan"},
    "registrar": {"registered"},
    "leader": set(),
    "admin": set(),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_exports_unmask_phones_only_for_who_may_see_them_and_log_the_count(client, cast, items, role, fmt):
    user = getattr(cast, role)
    rows = get_csv(client, user, channel="hotline") if fmt == "csv" else get_xlsx(client, user)
    shown = phones(rows)
    for name, item in items.items():
        if item.tracking_number not in shown:
            continue
        expected = item.phone if name in EXPECTED[role] else item.masked_phone
        assert shown[item.tracking_number] == expected, (role, name)
    unmasked = [n for n in EXPECTED[role] if items[n].tracking_number in shown]
    assert len(unmasked) == len(EXPECTED[role])  # every one the role may see is in its export
    logged = list(PhoneView.objects.values_list("user", "page", "count", "query", "suggestion"))
    if EXPECTED[role]:
        query = "channel=hotline" if fmt == "csv" else ""
        assert logged == [(user.pk, f"export_{fmt}", len(EXPECTED[role]), query, None)]
    else:
        assert logged == []  # an export of masked phones only shows none


def test_a_download_cut_short_still_logs_what_it_read(cast, items):
    export = suggestion_export(
        Suggestion.objects.order_by("id"), cast.supervisor, tally=ExportTally(user=cast.supervisor, page="export_csv")
    )
    export.chunk_size = 1
    stream = csv_stream(export)
    next(stream), next(stream)  # the BOM, then the header and the first row (one batch)
    stream.close()
    assert list(PhoneView.objects.values_list("page", "count")) == [("export_csv", 1)]


@pytest.mark.parametrize("role", ["supervisor", "handler_zhujian", "leader"])
def test_the_task_export_holds_no_citizen_name_or_phone(client, cast, items, role):
    client.force_login(getattr(cast, role))
    response = client.get(reverse("tasks:export_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200 and body.count("\n") >= 2
    for item in items.values():
        assert item.phone not in body or not item.phone
        assert item.masked_phone not in body or not item.phone
        assert item.citizen_name not in body
    assert not PhoneView.objects.exists()
