"""Practical-task projects: progress % and status, progress updates with evidence, pages and the evidence file."""

import datetime as dt
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from tasks import projects
from tasks.errors import DomainError
from tasks.models.projects import Evidence, Indicator, ProgressUpdate, ProgressValue, Project
from tasks.projects import ProjectStatus

from ..factories import DepartmentFactory

START, DUE = dt.date(2021, 1, 1), dt.date(2021, 12, 31)  # 364 days from start to deadline
MIDYEAR = dt.date(2021, 7, 2)  # day 182: half the time elapsed


def png_bytes(width: int = 4, height: int = 3, rgb=(29, 95, 168)) -> bytes:
    """A real (tiny, one-colour) PNG, built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def make_project(department, *, name="老旧小区改造", starts_on=START, due_on=DUE, indicators=((0, 100, 0),), year=None):
    """A project with indicators given as (baseline, target, current)."""
    project = Project.objects.create(
        department=department, name=name, year=year or starts_on.year, starts_on=starts_on, due_on=due_on
    )
    for n, (baseline, target, current) in enumerate(indicators):
        Indicator.objects.create(
            project=project, name=f"指标{n + 1}", unit="个", baseline=Decimal(baseline), target=Decimal(target),
            current=Decimal(current), due_on=due_on,
        )
    return project


def current_project(department, **kwargs):
    """A project running now: started 100 days ago, due in 265 days."""
    today = timezone.localdate()
    return make_project(department, starts_on=today - dt.timedelta(days=100), due_on=today + dt.timedelta(days=265),
                        **kwargs)


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def media(settings, tmp_path):
    """A throw-away MEDIA_ROOT: tests see exactly the files they stored."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def db_status(project, today) -> str:
    return projects.with_status(Project.objects.filter(pk=project.pk), today).get().status


# --- Progress % and status ------------------------------------------------------------


@pytest.mark.parametrize(
    "indicators, today, status, percent",
    [
        # Half the time gone: 80 of 100 is ahead of time, 20 of 100 behind, 100 done.
        pytest.param([(0, 100, 80)], MIDYEAR, ProjectStatus.ON_TRACK, 80.0, id="ahead"),
        pytest.param([(0, 100, 20)], MIDYEAR, ProjectStatus.BEHIND, 20.0, id="behind"),
        pytest.param([(0, 100, 100)], MIDYEAR, ProjectStatus.DONE, 100.0, id="finished"),
        pytest.param([(0, 100, 120)], MIDYEAR, ProjectStatus.DONE, 100.0, id="beyond-target"),
        # Exactly on pace (50 of 100 at day 182 of 364) is on track; a hair less is behind.
        pytest.param([(0, 100, 50)], MIDYEAR, ProjectStatus.ON_TRACK, 50.0, id="on-pace"),
        pytest.param([(0, 100, Decimal("49.99"))], MIDYEAR, ProjectStatus.BEHIND, 49.99, id="just-behind"),
        # The baseline counts: 137 → 237 with 187 is half way.
        pytest.param([(137, 237, 187)], MIDYEAR, ProjectStatus.ON_TRACK, 50.0, id="baseline"),
        # Before the start nothing is behind; past the deadline anything unfinished is.
        pytest.param([(0, 100, 0)], dt.date(2020, 12, 1), ProjectStatus.ON_TRACK, 0.0, id="not-started"),
        pytest.param([(0, 100, 99)], dt.date(2022, 1, 1), ProjectStatus.BEHIND, 99.0, id="late"),
        # One lagging indicator makes the project behind; the bar shows the mean.
        pytest.param([(0, 100, 100), (0, 10, 1)], MIDYEAR, ProjectStatus.BEHIND, 55.0, id="one-lags"),
        pytest.param([(0, 100, 100), (0, 10, 10)], MIDYEAR, ProjectStatus.DONE, 100.0, id="all-done"),
        pytest.param([], MIDYEAR, ProjectStatus.ON_TRACK, None, id="no-indicator"),
    ],
)
def test_status_and_percent(departments, indicators, today, status, percent):
    project = make_project(departments.zhujian, indicators=indicators)
    project = Project.objects.prefetch_related("indicators__project").get(pk=project.pk)
    assert projects.project_status(project, today) == status
    assert db_status(project, today) == status  # the database computes the same status for lists and totals
    if percent is None:
        assert projects.project_percent(project) is None
    else:
        assert projects.project_percent(project) == pytest.approx(percent)


def test_indicator_percent_and_expected_share_of_time(departments):
    indicator = make_project(departments.zhujian, indicators=[(100, 200, 130)]).indicators.get()
    assert indicator.progress_percent == pytest.approx(30.0)
    assert indicator.expected_percent(MIDYEAR) == pytest.approx(50.0)
    assert indicator.expected_percent(dt.date(2020, 6, 1)) == 0
    assert indicator.expected_percent(dt.date(2023, 6, 1)) == 100
    assert indicator.is_behind(MIDYEAR) and not indicator.is_done


def test_an_indicator_due_before_the_project_is_measured_against_its_own_deadline(departments):
    project = make_project(departments.zhujian, indicators=[(0, 100, 60)])
    Indicator.objects.filter(project=project).update(due_on=dt.date(2021, 6, 30))  # 180 days after the start
    project = Project.objects.prefetch_related("indicators__project").get(pk=project.pk)
    # 60% at 2021-05-01 (120 of 180 days: 66.7% expected) is behind, though the year is only a third gone.
    assert projects.project_status(project, dt.date(2021, 5, 1)) == ProjectStatus.BEHIND
    assert db_status(project, dt.date(2021, 5, 1)) == ProjectStatus.BEHIND
    assert projects.project_status(project, dt.date(2021, 4, 1)) == ProjectStatus.ON_TRACK
    assert db_status(project, dt.date(2021, 4, 1)) == ProjectStatus.ON_TRACK


def test_project_totals_count_by_status_and_department(departments):
    zhujian, chengguan = departments.zhujian, departments.chengguan
    make_project(zhujian, name="ahead", indicators=[(0, 100, 80)])
    make_project(zhujian, name="behind", indicators=[(0, 100, 20), (0, 5, 5)])
    make_project(chengguan, name="done", indicators=[(0, 35, 35)])
    make_project(chengguan, name="other year", indicators=[(0, 1, 0)], starts_on=dt.date(2022, 1, 1),
                 due_on=dt.date(2022, 12, 31))
    city = projects.project_totals(today=MIDYEAR, year=2021)
    assert city == projects.ProjectTotals(projects=3, done=1, on_track=1, behind=1, indicators=4, indicators_done=2)
    assert projects.project_totals(today=MIDYEAR, year=2021, department_id=zhujian.pk) == projects.ProjectTotals(
        projects=2, done=0, on_track=1, behind=1, indicators=3, indicators_done=1
    )
    assert projects.project_totals(today=MIDYEAR).projects == 4


def test_project_totals_are_two_queries_whatever_the_number_of_projects(departments, django_assert_num_queries):
    for n in range(12):
        make_project(departments.zhujian, name=f"项目{n}", indicators=[(0, 10, n)])
    with django_assert_num_queries(2):
        totals = projects.project_totals(today=MIDYEAR)
    # At half time: 10 and 11 of 10 are done, 5–9 on track, 0–4 behind.
    assert (totals.projects, totals.done, totals.on_track, totals.behind) == (12, 2, 5, 5)


# --- Recording progress with evidence ----------------------------------------------------


def test_head_records_progress_with_evidence_and_the_status_moves(cast, departments, media):
    project = current_project(departments.zhujian, indicators=[(0, 100, 10)])
    indicator = project.indicators.get()
    today = timezone.localdate()
    assert db_status(project, today) == ProjectStatus.BEHIND  # 10% with 100 of 365 days gone

    update = projects.project_record_progress(
        actor=cast.head_zhujian, project=project, recorded_on=today, values={indicator: "60"},
        note="第二批小区完工", evidence=[upload("现场.png", png_bytes()), upload("验收.pdf", PDF, "application/pdf")],
    )

    indicator.refresh_from_db()
    assert indicator.current == Decimal("60.00")
    value = ProgressValue.objects.get(update=update)
    assert (value.indicator_id, value.previous, value.value) == (indicator.pk, Decimal("10.00"), Decimal("60.00"))
    assert (update.recorded_by, update.recorded_on, update.note) == (cast.head_zhujian, today, "第二批小区完工")
    files = {e.original_name: e for e in Evidence.objects.filter(update=update)}
    assert {name: (e.content_type, e.size) for name, e in files.items()} == {
        "现场.png": ("image/png", len(png_bytes())),
        "验收.pdf": ("application/pdf", len(PDF)),
    }
    for evidence in files.values():
        path = Path(evidence.file.path)
        assert path.is_relative_to(media / "evidence")  # under MEDIA_ROOT/evidence/<year>/<month>/
        assert path.suffix in (".png", ".pdf") and "现场" not in path.name  # a random name, not the upload's
    assert len(stored_files(media)) == 2
    assert db_status(project, today) == ProjectStatus.ON_TRACK


def test_a_handler_of_the_department_records_progress_but_no_one_else(cast, departments, media):
    project = current_project(departments.zhujian)
    indicator = project.indicators.get()
    today = timezone.localdate()
    projects.project_record_progress(actor=cast.handler_zhujian, project=project, recorded_on=today,
                                     values={indicator.pk: 5})
    for user in (cast.head_chengguan, cast.handler_chengguan, cast.supervisor, cast.leader, cast.registrar):
        with pytest.raises(DomainError, match="Only the handlers and head of 住建局"):
            projects.project_record_progress(actor=user, project=project, recorded_on=today, values={indicator: 9})
    indicator.refresh_from_db()
    assert indicator.current == 5 and ProgressUpdate.objects.count() == 1


def _refused(cast, project, media, evidence, match):
    indicator = project.indicators.get()
    with pytest.raises(DomainError, match=match):
        projects.project_record_progress(
            actor=cast.head_zhujian, project=project, recorded_on=timezone.localdate(), values={indicator: 50},
            evidence=evidence,
        )
    indicator.refresh_from_db()
    assert indicator.current == 0  # the values were not changed either
    assert ProgressUpdate.objects.count() == 0 and ProgressValue.objects.count() == 0 and Evidence.objects.count() == 0
    assert stored_files(media) == []


@pytest.mark.parametrize(
    "name, content",
    [
        pytest.param("photo.png", b"MZ\x90\x00 this is a Windows program", id="program-named-png"),
        pytest.param("report.pdf", b"<html><script>alert(1)</script></html>", id="html-named-pdf"),
        pytest.param("photo.gif", b"GIF89a\x01\x00\x01\x00", id="gif"),
        pytest.param("notes.txt", "进度说明".encode(), id="text"),
        pytest.param("empty.png", b"", id="empty"),
    ],
)
def test_evidence_of_the_wrong_type_is_refused_and_nothing_is_stored(cast, departments, media, name, content):
    project = current_project(departments.zhujian)
    match = "is empty" if not content else "is not a JPEG, PNG or WebP image or a PDF"
    # A good file beside the bad one is not stored either.
    _refused(cast, project, media, [upload("good.png", png_bytes()), upload(name, content)], match)


def test_evidence_over_the_size_limit_is_refused_and_nothing_is_stored(cast, departments, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    project = current_project(departments.zhujian)
    big = png_bytes() + b"\x00" * (1001 - len(png_bytes()))
    _refused(cast, project, media, [upload("big.png", big)], r"big.png is too large: 1001\xa0bytes, at most 1000")


def test_the_default_size_limit_is_ten_megabytes(cast, departments, media):
    project = current_project(departments.zhujian)
    assert projects.max_bytes() == 10 * 1024 * 1024
    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    _refused(cast, project, media, [upload("scan.pdf", too_big, "application/pdf")], "scan.pdf is too large")


def test_jpeg_and_webp_are_accepted_by_content_whatever_their_names(cast, departments, media):
    project = current_project(departments.zhujian)
    update = projects.project_record_progress(
        actor=cast.head_zhujian, project=project, recorded_on=timezone.localdate(),
        evidence=[upload("IMG_0001", JPEG, "application/octet-stream"), upload("a.png", WEBP)],
    )
    assert sorted(update.evidence.values_list("content_type", flat=True)) == ["image/jpeg", "image/webp"]
    assert sorted(Path(e.file.name).suffix for e in update.evidence.all()) == [".jpg", ".webp"]


def test_more_than_ten_files_at_once_are_refused(cast, departments, media):
    project = current_project(departments.zhujian)
    _refused(cast, project, media, [upload(f"{n}.png", png_bytes()) for n in range(11)], "Too many files: 11")


@pytest.mark.parametrize(
    "values, recorded_on, match",
    [
        pytest.param({}, 0, "Nothing to record", id="nothing"),
        pytest.param({"same": "0"}, 0, "Nothing to record", id="unchanged"),
        pytest.param({"first": "-1"}, 0, "the value must be a number from 0", id="negative"),
        pytest.param({"first": "1.234"}, 0, "at most two decimal places", id="decimals"),
        pytest.param({"first": "abc"}, 0, "is not a number", id="text"),
        pytest.param({"first": "5"}, 1, "is in the future", id="future"),
        pytest.param({"first": "5"}, -200, "before the project starts", id="before-start"),
    ],
)
def test_bad_updates_are_refused_with_a_reason(cast, departments, media, values, recorded_on, match):
    project = current_project(departments.zhujian)
    indicator = project.indicators.get()
    given = {indicator: raw for raw in values.values()}
    with pytest.raises(DomainError, match=match):
        projects.project_record_progress(
            actor=cast.head_zhujian, project=project, values=given,
            recorded_on=timezone.localdate() + dt.timedelta(days=recorded_on),
        )
    assert ProgressUpdate.objects.count() == 0


def test_updates_are_recorded_in_date_order(cast, departments, media):
    project = current_project(departments.zhujian)
    indicator = project.indicators.get()
    today = timezone.localdate()
    projects.project_record_progress(actor=cast.head_zhujian, project=project, recorded_on=today,
                                     values={indicator: 30})
    with pytest.raises(DomainError, match=f"the last update is dated {today.isoformat()}"):
        projects.project_record_progress(actor=cast.head_zhujian, project=project,
                                         recorded_on=today - dt.timedelta(days=1), values={indicator: 20})
    indicator.refresh_from_db()
    assert indicator.current == 30


def test_an_indicator_of_another_project_is_refused(cast, departments, media):
    project = current_project(departments.zhujian)
    other = current_project(departments.zhujian, name="另一个项目").indicators.get()
    with pytest.raises(DomainError, match=f"Indicator {other.pk} is not one of this project's indicators"):
        projects.project_record_progress(actor=cast.head_zhujian, project=project,
                                         recorded_on=timezone.localdate(), values={other: 3})


# --- Pages and the evidence file ---------------------------------------------------------


@pytest.fixture
def evidence(cast, departments, media):
    project = current_project(departments.zhujian)
    update = projects.project_record_progress(
        actor=cast.head_zhujian, project=project, recorded_on=timezone.localdate(),
        evidence=[upload("现场照片.png", png_bytes())],
    )
    return update.evidence.get()


@pytest.mark.parametrize("role", ["head_zhujian", "handler_zhujian", "supervisor", "leader"])
def test_who_may_see_the_project_downloads_its_evidence(client, cast, evidence, role):
    client.force_login(getattr(cast, role))
    response = client.get(reverse("tasks:evidence", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("role", ["handler_chengguan", "head_chengguan", "registrar", "admin"])
def test_a_handler_of_another_department_gets_404_on_the_evidence_file(client, cast, evidence, role):
    client.force_login(getattr(cast, role))
    assert client.get(reverse("tasks:evidence", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("tasks:project_detail", args=[evidence.update.project_id])).status_code == 404


def test_evidence_needs_a_login_and_media_url_serves_nothing(client, evidence):
    response = client.get(reverse("tasks:evidence", args=[evidence.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/media/" + evidence.file.name).status_code in (302, 404)


def test_the_head_records_progress_through_the_page(client, cast, departments, media):
    project = current_project(departments.zhujian, indicators=[(0, 100, 10)])
    indicator = project.indicators.get()
    client.force_login(cast.head_zhujian)
    page = client.get(reverse("tasks:project_detail", args=[project.pk]))
    assert page.status_code == 200 and b'id="progress-form"' in page.content
    response = client.post(reverse("tasks:project_progress", args=[project.pk]), {
        "recorded_on": timezone.localdate().isoformat(),
        f"indicator_{indicator.pk}": "45",
        "note": "完成45个",
        "evidence": [upload("a.png", png_bytes()), upload("b.pdf", PDF, "application/pdf")],
    })
    assert response.status_code == 302 and response["Location"] == reverse("tasks:project_detail", args=[project.pk])
    indicator.refresh_from_db()
    assert indicator.current == 45 and Evidence.objects.count() == 2
    page = client.get(reverse("tasks:project_detail", args=[project.pk]))
    assert 'data-percent="45.0"' in page.content.decode() and "完成45个" in page.content.decode()


def test_the_page_refuses_a_bad_file_and_shows_why(client, cast, departments, media):
    project = current_project(departments.zhujian)
    indicator = project.indicators.get()
    client.force_login(cast.head_zhujian)
    client.cookies.load({"django_language": "en"})
    response = client.post(reverse("tasks:project_progress", args=[project.pk]), {
        "recorded_on": timezone.localdate().isoformat(),
        f"indicator_{indicator.pk}": "45",
        "evidence": [upload("photo.jpg", b"not really a photo")],
    })
    assert response.status_code == 409
    assert "photo.jpg is not a JPEG, PNG or WebP image or a PDF" in response.content.decode()
    assert ProgressUpdate.objects.count() == 0 and stored_files(media) == []


def test_other_departments_and_supervisors_see_no_progress_form(client, cast, departments, media):
    project = current_project(departments.zhujian)
    client.force_login(cast.supervisor)
    page = client.get(reverse("tasks:project_detail", args=[project.pk]))
    assert page.status_code == 200 and b'id="progress-form"' not in page.content
    response = client.post(reverse("tasks:project_progress", args=[project.pk]), {
        "recorded_on": timezone.localdate().isoformat(), "evidence": [upload("a.png", png_bytes())],
    })
    assert response.status_code == 409 and ProgressUpdate.objects.count() == 0
    client.force_login(cast.handler_chengguan)
    assert client.post(reverse("tasks:project_progress", args=[project.pk]), {}).status_code == 404


def test_the_list_shows_each_user_their_departments_projects(client, cast, departments):
    mine = make_project(departments.zhujian, name="老旧小区改造")
    theirs = make_project(departments.chengguan, name="口袋公园建设")
    shown = {}
    for role in ("head_zhujian", "handler_chengguan", "leader", "supervisor", "registrar"):
        client.force_login(getattr(cast, role))
        response = client.get(reverse("tasks:projects"))
        assert response.status_code == 200
        shown[role] = {row["project"].pk for row in response.context["rows"]}
    assert shown == {
        "head_zhujian": {mine.pk},
        "handler_chengguan": {theirs.pk},
        "leader": {mine.pk, theirs.pk},
        "supervisor": {mine.pk, theirs.pk},
        "registrar": set(),
    }


def test_the_list_filters_by_status_year_and_department(client, cast, departments):
    today = timezone.localdate()
    behind = current_project(departments.zhujian, name="落后", indicators=[(0, 100, 1)])
    done = current_project(departments.chengguan, name="完成", indicators=[(0, 100, 100)])
    old = make_project(departments.chengguan, name="往年", year=2021, indicators=[(0, 1, 1)])
    client.force_login(cast.leader)

    def shown(**params):
        response = client.get(reverse("tasks:projects"), params)
        assert response.status_code == 200
        return {row["project"].pk for row in response.context["rows"]}

    assert shown(status="behind") == {behind.pk}
    assert shown(status="done") == {done.pk, old.pk}
    assert shown(year=2021) == {old.pk}
    assert shown(year=today.year, department=departments.chengguan.pk) == {done.pk}
    assert shown(status="nonsense") == set()  # an invalid filter shows its error, not every row


def test_list_and_detail_query_counts_do_not_grow_with_rows(client, cast, departments, media):
    client.force_login(cast.leader)

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = current_project(departments.zhujian, name="p0", indicators=[(0, 10, 1), (0, 5, 2)])
    for n in range(2):
        projects.project_record_progress(actor=cast.head_zhujian, project=first, recorded_on=timezone.localdate(),
                                         values={first.indicators.first(): n + 3},
                                         evidence=[upload("a.png", png_bytes())])
    few = count(reverse("tasks:projects")), count(reverse("tasks:project_detail", args=[first.pk]))
    dept = DepartmentFactory(name="民政局", code="minzheng")
    for n in range(1, 13):
        current_project(dept if n % 2 else departments.chengguan, name=f"p{n}",
                        indicators=[(0, 10, n), (0, 5, 1), (0, 3, 3)])
    for n in range(6):
        projects.project_record_progress(actor=cast.head_zhujian, project=first, recorded_on=timezone.localdate(),
                                         values={first.indicators.first(): n + 5},
                                         evidence=[upload("a.png", png_bytes()), upload("b.pdf", PDF)])
    many = count(reverse("tasks:projects")), count(reverse("tasks:project_detail", args=[first.pk]))
    assert many == few, (few, many)
    assert few[0] <= 12 and few[1] <= 12, few
