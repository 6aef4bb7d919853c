"""Import pages: who may upload and follow a job, progress JSON, error report download, template."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from feedback.importers import open_table, suggestion_import
from feedback.models import ImportJob, Suggestion

from .test_import_helpers import (  # noqa: F401
    HEADERS,
    as_lists,
    eager_celery,
    fast_passwords,
    good_row,
    media,
    org,
    write_csv,
)
from .test_import_write import hundred_rows


def login(client, user):
    client.force_login(user)  # django-axes needs a request for client.login()
    return client


@pytest.fixture
def finished_job(tmp_path, client, org, cast, media, eager_celery, django_capture_on_commit_callbacks):
    """A registrar's upload of 100 rows (7 bad), run to the end by the eager Celery job."""
    login(client, cast.registrar)
    path = write_csv(tmp_path / "visits.csv", hundred_rows(), encoding="gbk")
    with django_capture_on_commit_callbacks(execute=True), path.open("rb") as handle:
        response = client.post(reverse("feedback:import"), {"file": handle, "sheet": ""})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("feedback:import_detail", args=[job.pk])
    job.refresh_from_db()
    return job


def test_upload_runs_the_job_and_the_page_shows_the_result(client, finished_job):
    assert finished_job.status == ImportJob.Status.DONE
    page = client.get(reverse("feedback:import_detail", args=[finished_job.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="import-progress" max="100" value="100"' in html
    assert 'id="import-imported">93<' in html and 'id="import-errors">7<' in html
    assert reverse("feedback:import_errors", args=[finished_job.pk]) in html
    assert "import_progress.js" in html


def test_status_json_reports_progress(client, finished_job, django_assert_num_queries):
    url = reverse("feedback:import_status", args=[finished_job.pk])
    with django_assert_num_queries(3):  # session, user, job
        data = client.get(url).json()
    assert data["finished"] is True and data["percent"] == 100
    assert (data["total"], data["processed"], data["imported"], data["duplicates"], data["errors"]) == (
        100, 100, 93, 0, 7)
    assert data["error_report_url"].endswith(f"/import/{finished_job.pk}/errors/")


def test_uploader_downloads_the_error_report_and_its_rows_import_once_fixed(client, finished_job, tmp_path):
    response = client.get(reverse("feedback:import_errors", args=[finished_job.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("编号,来源渠道") and len(text.splitlines()) == 8
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text.replace("月亮镇", "留早镇"), encoding="utf-8-sig")
    result = suggestion_import(table=open_table(fixed))
    assert result.summary() == "imported=1 duplicates=0 errors=6"
    assert Suggestion.objects.count() == 94


@pytest.mark.parametrize("name", ["outsider", "handler_zhujian", "leader", "admin"])
def test_others_cannot_see_a_job_or_its_report(client, finished_job, cast, name):
    login(client, getattr(cast, name))
    for view in ("import_detail", "import_status", "import_errors"):
        assert client.get(reverse(f"feedback:{view}", args=[finished_job.pk])).status_code == 404


def test_supervisor_follows_every_import(client, finished_job, cast):
    login(client, cast.supervisor)
    assert client.get(reverse("feedback:import_errors", args=[finished_job.pk])).status_code == 200
    page = client.get(reverse("feedback:import"))
    assert f'data-job="{finished_job.pk}"' in page.content.decode()


# Not admins: imported rows are citizens' personal data (README "Personal data").
@pytest.mark.parametrize("name, status", [("registrar", 200), ("supervisor", 200), ("admin", 403),
                                          ("handler_zhujian", 403), ("head_zhujian", 403), ("leader", 403)])
def test_only_registrars_and_supervisors_may_import(client, org, cast, name, status):
    login(client, getattr(cast, name))
    assert client.get(reverse("feedback:import")).status_code == status
    assert client.get(reverse("feedback:import_template")).status_code == status


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("feedback:import"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_refused_file_shows_the_reason_on_the_form(client, org, cast, media, tmp_path):
    login(client, cast.registrar)
    client.cookies.load({"django_language": "en"})
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)], HEADERS[:5]), HEADERS[:5])
    with path.open("rb") as handle:
        response = client.post(reverse("feedback:import"), {"file": handle}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "lacks the required column" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_upload_types_are_refused(client, org, cast, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, cast.registrar)
    response = client.post(
        reverse("feedback:import"), {"file": SimpleUploadedFile("notes.docx", b"PK\x03\x04")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "is not a spreadsheet" in response.content.decode()


def test_resume_is_a_post_by_the_uploader(client, finished_job, cast):
    url = reverse("feedback:import_resume", args=[finished_job.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)  # finished: refused with a message, nothing changes
    assert response.status_code == 302
    finished_job.refresh_from_db()
    assert finished_job.status == ImportJob.Status.DONE


def test_template_has_the_headers_a_sample_and_the_allowed_values(client, org, cast, tmp_path):
    login(client, cast.registrar)
    response = client.get(reverse("feedback:import_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    sheet, notes = workbook.worksheets
    assert [c.value for c in sheet[1]] == HEADERS
    notes_text = " ".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "12345热线" in notes_text and "留早镇" in notes_text and "住建局" in notes_text
    assert "问政办" not in notes_text  # dispatches, cannot be assigned work
    # The template's own sample row imports: the template and the importer agree.
    path = tmp_path / "template.xlsx"
    path.write_bytes(response.content)
    result = suggestion_import(table=open_table(path))
    assert result.summary() == "imported=1 duplicates=0 errors=0"
    assert Suggestion.objects.get().task.lead_department.name == "住建局"


def test_upload_page_query_count_does_not_grow_with_jobs(client, org, cast, media, django_assert_num_queries):
    login(client, cast.supervisor)

    def add_jobs(n):
        for i in range(n):
            ImportJob.objects.create(uploaded_by=cast.registrar, original_name=f"f{i}.csv", file="imports/x.csv")

    add_jobs(1)
    with django_assert_num_queries(5) as first:  # session, user, department (header), unread count, jobs
        assert client.get(reverse("feedback:import")).status_code == 200
    add_jobs(5)
    with django_assert_num_queries(len(first.captured_queries)):
        page = client.get(reverse("feedback:import"))
    assert page.content.decode().count("data-job=") == 6
