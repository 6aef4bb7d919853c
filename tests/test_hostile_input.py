"""Hostile input: HTML, script and SQL in contents, names and file names are stored as given and shown escaped
everywhere: task and suggestion lists and pages, the report card (page and PDF), CSV/XLSX exports, e-mails."""

import csv
import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Channel, ImportJob, Suggestion
from feedback.services import task_title
from tasks import projects
from tasks.models import State, Task
from tasks.reminders import reminders_send_due
from tasks.reportcards import LIVE, for_department, parse_period, report_card
from tasks.reportcards.pdf import render_html, render_pdf

from .factories import TaskFactory
from .services import missing
from .tasks.test_projects import current_project, png_bytes, upload

SCRIPT = '<script>alert("xss")</script>'
CONTENT = SCRIPT + "路灯不亮'; DROP TABLE feedback_suggestion; -- <img src=x onerror=alert(1)>"
NAME = '<b>王</b>"\'&amp;'
FILE_NAME = "<img src=x onerror=alert(1)>.png"
ESCAPED = "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def hostile(client, cast, departments, township):
    """A suggestion registered through the form with a hostile content and name, then assigned to 住建局."""
    client.force_login(cast.supervisor)
    response = client.post(reverse("feedback:register"), {
        "channel": Channel.HOTLINE,
        "received_at": (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "citizen_name": NAME, "phone": "13812345678", "township": township.pk, "content": CONTENT,
        "category": "complaint", "urgency": "normal",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    suggestion = Suggestion.objects.get()
    Task.objects.filter(pk=suggestion.task_id).update(
        state=State.ACCEPTED, lead_department=departments.zhujian, assigned_at=timezone.now(),
        deadline=timezone.now() - dt.timedelta(days=2),
    )
    client.logout()
    return suggestion


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_hostile_text_is_stored_exactly_as_given(hostile):
    hostile.refresh_from_db()
    assert (hostile.content, hostile.citizen_name) == (CONTENT, NAME)
    assert hostile.task.title == task_title(CONTENT) and hostile.task.title.startswith(SCRIPT)


@pytest.mark.parametrize("url_name", ["tasks:list", "tasks:detail", "feedback:list", "feedback:detail"])
@pytest.mark.parametrize("role", ["supervisor", "handler_zhujian"])
def test_pages_show_hostile_text_escaped(client, cast, hostile, url_name, role):
    args = {"tasks:detail": [hostile.task_id], "feedback:detail": [hostile.pk]}.get(url_name)
    body = page(client, getattr(cast, role), reverse(url_name, args=args))
    assert SCRIPT not in body and "<img src=x" not in body and "<b>王</b>" not in body
    assert ESCAPED in body
    if url_name != "tasks:list":  # the task list has no citizen column
        assert "&lt;b&gt;王&lt;/b&gt;&quot;&#x27;&amp;amp;" in body


def test_sql_in_a_search_is_only_text(client, cast, hostile):
    body = page(client, cast.supervisor, reverse("tasks:list") + "?q=" + "' OR 1=1; DROP TABLE tasks_task; --")
    assert "No task" in body or hostile.tracking_number not in body
    assert Task.objects.count() == 1 and Suggestion.objects.count() == 1
    found = page(client, cast.supervisor, reverse("feedback:list") + "?q=DROP")
    assert hostile.tracking_number in found


def test_exports_keep_hostile_text_literal(client, cast, hostile):
    client.force_login(cast.supervisor)
    body = b"".join(client.get(reverse("feedback:export_csv")).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert CONTENT in rows[1] and NAME in rows[1]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(reverse("feedback:export_xlsx")).streaming_content)))
    cells = [cell for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True) for cell in row]
    assert CONTENT in cells and NAME in cells
    tasks = b"".join(client.get(reverse("tasks:export_csv")).streaming_content).decode("utf-8-sig")
    assert task_title(CONTENT) in list(csv.reader(io.StringIO(tasks)))[1]


@pytest.fixture
def pdftotext():
    path = shutil.which("pdftotext")
    if path is None:
        missing("pdftotext is missing (apt-get install poppler-utils)")  # fails under REQUIRE_SERVICES, as in CI
    return lambda pdf: subprocess.run([path, "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout.decode()


def test_the_report_card_page_and_pdf_show_hostile_titles_as_text(client, cast, departments, hostile, pdftotext):
    project = current_project(departments.zhujian, name=SCRIPT + "项目")
    card = report_card(for_department(departments.zhujian), parse_period(f"{timezone.localdate():%Y-%m}"), source=LIVE)
    html = render_html(card)
    assert SCRIPT not in html and ESCAPED in html and project.pk
    text = "".join(pdftotext(render_pdf(card)).split())
    assert '<script>alert("xss")</script>' in text  # the overdue task's title, as the characters typed
    assert "<script>alert(\"xss\")</script>项目" in text  # the project's name
    body = page(client, cast.supervisor, reverse("reports:department_card", args=[departments.zhujian.code]))
    assert SCRIPT not in body and ESCAPED in body
    # The PDF as the page's "PDF" link serves it: the characters typed, drawn as text.
    response = client.get(reverse("reports:department_card_pdf", args=[departments.zhujian.code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.getvalue() if not response.streaming else b"".join(response.streaming_content)
    assert '<script>alert("xss")</script>' in "".join(pdftotext(pdf).split())


def test_reminder_emails_escape_the_html_part_and_keep_the_text_part_literal(cast, departments, township):
    # Overdue on Thursday 18 November 2021 (a working day): the head's digest lists it.
    TaskFactory(state=State.ACCEPTED, lead_department=departments.zhujian, township=township,
                deadline=timezone.make_aware(dt.datetime(2021, 11, 17, 23, 59)), title=SCRIPT + "井盖")
    reminders_send_due(now=timezone.make_aware(dt.datetime(2021, 11, 18, 9, 0)))
    message = next(m for m in mail.outbox if m.to == ["head-zhujian@example.gov.cn"])
    html = message.alternatives[0][0]
    assert SCRIPT not in html and ESCAPED in html
    assert SCRIPT + "井盖" in message.body and "&lt;" not in message.body
    assert "<" not in message.subject


def test_hostile_file_names_are_shown_escaped_and_downloaded_under_a_safe_header(client, cast, departments, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project = current_project(departments.zhujian)
    update = projects.project_record_progress(
        actor=cast.head_zhujian, project=project, recorded_on=timezone.localdate(),
        evidence=[upload(FILE_NAME.replace(".png", "\r\nSet-Cookie: x=1.png"), png_bytes())],
    )
    evidence = update.evidence.get()
    assert evidence.original_name == "<img src=x onerror=alert(1)>Set-Cookie: x=1.png"  # control characters dropped
    assert evidence.file.name.endswith(".png") and "<" not in evidence.file.name  # stored under a random name
    body = page(client, cast.head_zhujian, reverse("tasks:project_detail", args=[project.pk]))
    assert "<img src=x onerror" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    response = client.get(reverse("tasks:evidence", args=[evidence.pk]))
    assert response.status_code == 200 and b"\r\nSet-Cookie" not in response.serialize_headers()
    assert response["Content-Disposition"].startswith("attachment") and "\n" not in response["Content-Disposition"]


def test_a_hostile_import_file_name_is_shown_escaped(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob(original_name=SCRIPT + ".csv", uploaded_by=cast.registrar, status=ImportJob.Status.DONE)
    job.file.save("x.csv", ContentFile(b"a,b\n"), save=True)
    for url in (reverse("feedback:import"), reverse("feedback:import_detail", args=[job.pk])):
        body = page(client, cast.registrar, url)
        assert SCRIPT not in body and ESCAPED in body
