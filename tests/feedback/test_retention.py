"""Retention: `anonymise_closed` erases names and phones of cases closed more than N years ago, and reports it."""

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from feedback.models import ImportJob, Suggestion
from feedback.retention import closed_cases_anonymise, retention_cutoff
from tasks.models import State

from ..factories import SuggestionFactory, TaskFactory

NOW = timezone.make_aware(dt.datetime(2026, 11, 26, 10, 0))


def years_ago(years: float) -> dt.datetime:
    return NOW - dt.timedelta(days=round(365.25 * years))


@pytest.fixture
def cases(township):
    """Closed 4 years ago (two citizens, one with no phone), closed 1 year ago, open since 5 years, merged away."""
    old = TaskFactory(state=State.CLOSED, closed_at=years_ago(4), township=township)
    SuggestionFactory(task=old, township=township, citizen_name="李四", phone="")
    recent = TaskFactory(state=State.CLOSED, closed_at=years_ago(1), township=township)
    still_open = TaskFactory(state=State.IN_PROGRESS, township=township)
    # A look-back reopened it: closed_at stays from the first closing, but it is not closed now.
    reopened = TaskFactory(state=State.ACCEPTED, closed_at=years_ago(4), township=township)
    Suggestion.objects.filter(task__in=[old, still_open]).update(received_at=years_ago(5))
    return {"old": old, "recent": recent, "open": still_open, "reopened": reopened}


def citizens() -> list[tuple]:
    return list(Suggestion.objects.order_by("pk").values_list("task_id", "citizen_name", "phone", "anonymised_at"))


def run(*args) -> str:
    out = io.StringIO()
    call_command("anonymise_closed", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_counts_and_changes_nothing(cases):
    before = citizens()
    result = closed_cases_anonymise(years=3, now=NOW, dry_run=True)
    assert (result.suggestions, result.names, result.phones, result.tasks) == (2, 2, 1, 1)
    assert result.dry_run and citizens() == before


def test_a_run_erases_names_and_phones_of_old_closed_cases_only_and_a_second_changes_nothing(cases):
    kept = {row for row in citizens() if row[0] != cases["old"].pk}
    result = closed_cases_anonymise(years=3, now=NOW, batch_size=1)
    assert (result.suggestions, result.names, result.phones, result.tasks) == (2, 2, 1, 1)
    old = Suggestion.objects.filter(task=cases["old"])
    assert set(old.values_list("citizen_name", "phone", "anonymised_at")) == {("", "", NOW)}
    assert all(content for content in old.values_list("content", flat=True))  # the case itself stays
    assert {row for row in citizens() if row[0] != cases["old"].pk} == kept  # recent, open and reopened untouched
    again = closed_cases_anonymise(years=3, now=NOW)
    assert (again.suggestions, again.names, again.phones, again.tasks) == (0, 0, 0, 0)
    assert set(old.values_list("anonymised_at", flat=True)) == {NOW}


def test_fewer_years_reach_the_recent_case(cases):
    result = closed_cases_anonymise(years=1, now=NOW + dt.timedelta(days=30))
    assert (result.suggestions, result.tasks) == (3, 2)
    assert Suggestion.objects.filter(task=cases["recent"]).get().phone == ""
    assert Suggestion.objects.filter(task=cases["open"]).get().phone == "13812345678"


def test_the_default_years_come_from_the_settings(cases, settings):
    settings.PERSONAL_DATA_RETENTION_YEARS = 5
    assert closed_cases_anonymise(now=NOW).suggestions == 0
    settings.PERSONAL_DATA_RETENTION_YEARS = 3
    assert closed_cases_anonymise(now=NOW).suggestions == 2


def test_the_cutoff_is_calendar_years_back():
    leap = timezone.make_aware(dt.datetime(2024, 2, 29, 12, 0))
    assert timezone.localtime(retention_cutoff(years=3, now=leap)).date() == dt.date(2021, 2, 28)
    assert timezone.localtime(retention_cutoff(years=3, now=NOW)).date() == dt.date(2023, 11, 26)


def test_old_import_files_hold_the_same_data_and_are_deleted(cases, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def job(created_at):
        made = ImportJob(original_name="走访.xlsx", uploaded_by=cast.registrar, status=ImportJob.Status.DONE,
                         created_at=created_at)
        made.file.save("a.xlsx", ContentFile(b"PK\x03\x04"), save=False)
        made.error_report.save("a-errors.csv", ContentFile("张三,13812345678\n".encode()), save=True)
        return made

    old, recent = job(years_ago(4)), job(years_ago(1))
    paths = [old.file.path, old.error_report.path]
    assert closed_cases_anonymise(years=3, now=NOW, dry_run=True).import_files == 2
    assert all(tmp_path.joinpath(p).exists() for p in paths)
    assert closed_cases_anonymise(years=3, now=NOW).import_files == 2
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.file.name, old.error_report.name, old.imported) == ("", "", 0)
    assert not any(tmp_path.joinpath(p).exists() for p in paths)
    assert recent.file and tmp_path.joinpath(recent.file.path).exists()
    assert closed_cases_anonymise(years=3, now=NOW).import_files == 0


def test_the_command_reports_what_it_changed(cases):
    # The command counts from the real clock: the old case closed 4 years before NOW is past 3 years now too.
    dry = run("--dry-run", "--years", "3")
    assert "Dry run" in dry and "suggestions=2 names=2 phones=1 tasks=1" in dry and dry.rstrip().endswith("dry_run=1")
    assert Suggestion.objects.filter(task=cases["old"], citizen_name="").count() == 0
    real = run("--years", "3")
    assert real.strip().splitlines()[-1].startswith("cutoff=") and "suggestions=2 names=2 phones=1 tasks=1" in real
    assert "suggestions=0 names=0 phones=0 tasks=0" in run()


def test_the_command_refuses_bad_numbers(db):
    with pytest.raises(CommandError, match="--years"):
        run("--years", "0")
    with pytest.raises(CommandError, match="--batch-size"):
        run("--batch-size", "0")


def test_beat_runs_the_retention_job_every_night_and_it_logs_what_it_changed(cases, caplog):
    from dingzhou.celery import app
    from feedback.jobs import anonymise_closed_cases

    entry = app.conf.beat_schedule["anonymise-closed-cases"]
    assert entry["task"] == anonymise_closed_cases.name
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {30}
    with caplog.at_level("INFO", logger="dingzhou.jobs"):
        result = anonymise_closed_cases.apply()  # through Celery's tracer, as a worker runs it
    assert result.successful(), result.traceback
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "retention.finished"]
    assert {k: record.data[k] for k in ("suggestions", "names", "phones", "tasks")} == {
        "suggestions": 2, "names": 2, "phones": 1, "tasks": 1,
    }  # fmt: skip
    assert "suggestions=2 names=2 phones=1 tasks=1" in result.result
    assert Suggestion.objects.filter(task=cases["old"], phone="", citizen_name="").count() == 2
