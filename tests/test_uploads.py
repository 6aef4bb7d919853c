"""Uploads are judged by their content, not their name, and files are served only through permission-checked views."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import ImportJob
from tasks import projects
from tasks.errors import DomainError
from tasks.models.projects import Mechanism, ProgressUpdate, TvEpisode

from .tasks.test_projects import current_project, png_bytes, stored_files, upload

HTML = b"<!DOCTYPE html><html><body><script>fetch('/feedback/export.csv')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def english(client):
    client.cookies.load({"django_language": "en"})
    with translation.override("en"):
        yield client


# --- Refused by content ---------------------------------------------------------------------------


def test_an_html_file_renamed_png_is_refused_as_evidence_with_a_clear_message(english, cast, departments, media):
    client = english
    project = current_project(departments.zhujian)
    client.force_login(cast.head_zhujian)
    response = client.post(reverse("tasks:project_progress", args=[project.pk]), {
        "recorded_on": timezone.localdate().isoformat(), "evidence": [upload("现场照片.png", HTML)],
    })
    assert response.status_code == 409
    assert ("现场照片.png is not a JPEG, PNG or WebP image or a PDF document (judged by its content, not its name)."
            in response.content.decode())
    assert ProgressUpdate.objects.count() == 0 and stored_files(media) == []


@pytest.mark.parametrize("name, content", [("机制.pdf", HTML), ("机制.png", SVG)])
def test_markup_renamed_as_a_document_is_refused_as_a_mechanism_document(cast, departments, media, name, content):
    episode = TvEpisode.objects.create(aired_on=dt.date(2021, 11, 1), title="问政住建")
    episode.departments.add(departments.zhujian)
    with translation.override("en"), pytest.raises(DomainError, match="judged by its content, not its name"):
        projects.mechanism_add(actor=cast.supervisor, episode=episode, department=departments.zhujian, title="x",
                               established_on=dt.date(2021, 11, 20), document=upload(name, content))
    assert not Mechanism.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("name, content", [("visits.csv", HTML), ("visits.xlsx", HTML), ("visits.csv", SVG),
                                           ("visits.csv", b"\xef\xbb\xbf  <html><table><tr><td>a</td></tr></table>")])
def test_markup_renamed_as_a_spreadsheet_is_refused_on_import(english, cast, media, name, content):
    client = english
    client.force_login(cast.registrar)
    response = client.post(reverse("feedback:import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert "it is an HTML or XML document, whatever its name" in response.content.decode()
    assert not ImportJob.objects.exists() and stored_files(media) == []


def test_an_html_file_renamed_png_is_refused_on_import(english, cast, media):
    english.force_login(cast.registrar)
    response = english.post(reverse("feedback:import"), {"file": SimpleUploadedFile("visits.png", HTML)})
    assert response.status_code == 200 and "is not a spreadsheet" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- Served only through views that check permission ------------------------------------------------


@pytest.fixture
def files(cast, departments, media):
    """An evidence photo and a mechanism document of 住建局, and a registrar's import with its error report."""
    project = current_project(departments.zhujian)
    update = projects.project_record_progress(
        actor=cast.head_zhujian, project=project, recorded_on=timezone.localdate(),
        evidence=[upload("现场.png", png_bytes())],
    )
    episode = TvEpisode.objects.create(aired_on=dt.date(2021, 11, 1), title="问政住建")
    episode.departments.add(departments.zhujian)
    mechanism = projects.mechanism_add(
        actor=cast.supervisor, episode=episode, department=departments.zhujian, title="机制",
        established_on=dt.date(2021, 11, 20), document=upload("机制.png", png_bytes()),
    )
    job = ImportJob(original_name="走访.csv", uploaded_by=cast.registrar, status=ImportJob.Status.DONE)
    job.file.save("a.csv", ContentFile(b"x"), save=False)
    job.error_report.save("a-errors.csv", ContentFile("张三,13812345678\n".encode()), save=True)
    return {
        "evidence": reverse("tasks:evidence", args=[update.evidence.get().pk]),
        "mechanism": reverse("tasks:mechanism_document", args=[mechanism.pk]),
        "errors": reverse("feedback:import_errors", args=[job.pk]),
        "stored": [update.evidence.get().file.name, mechanism.document.name, job.error_report.name],
    }


@pytest.mark.parametrize("which, owner", [("evidence", "handler_zhujian"), ("mechanism", "handler_zhujian"),
                                          ("errors", "registrar")])
def test_files_are_downloads_that_no_browser_reads_as_a_page(client, cast, files, which, owner):
    client.force_login(getattr(cast, owner))
    response = client.get(files[which])
    assert response.status_code == 200 and b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("which, stranger", [("evidence", "handler_chengguan"), ("mechanism", "handler_chengguan"),
                                             ("errors", "outsider"), ("errors", "handler_zhujian")])
def test_another_department_or_user_gets_404_and_anonymous_the_login(client, cast, files, which, stranger):
    client.force_login(getattr(cast, stranger))
    assert client.get(files[which]).status_code == 404
    client.logout()
    response = client.get(files[which])
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_media_url_is_not_served(client, cast, files, settings):
    client.force_login(cast.supervisor)
    for name in files["stored"]:
        url = "/" + settings.MEDIA_URL.lstrip("/") + name
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"13812345678" not in response.content
    client.logout()
    assert client.get("/" + settings.MEDIA_URL.lstrip("/") + files["stored"][2]).status_code == 404  # no such route
