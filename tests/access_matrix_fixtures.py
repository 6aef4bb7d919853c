"""Objects of the owning department 住建局 for the access matrix, and the URL arguments that point at them."""

import datetime as dt
import types

from django.core.files.base import ContentFile
from django.utils import timezone

from feedback.models import ImportJob
from tasks.models import ReplyTemplate, ScoreExclusion, State
from tasks.models.projects import (
    AccountabilitySuggestion,
    Evidence,
    Indicator,
    Mechanism,
    ProgressUpdate,
    Project,
    TvEpisode,
)
from tasks.models.reminders import Notification, ReminderLevel

from . import factories

# A 1×1 PNG: evidence and mechanism documents are served as stored, so the file must exist.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def build_world(cast, departments, township) -> types.SimpleNamespace:
    """One object of each kind a route can name, all owned by 住建局 (or by its people)."""
    zhujian = departments.zhujian
    now = timezone.now()
    today = timezone.localdate()
    task = factories.TaskFactory(
        state=State.ASSIGNED, lead_department=zhujian, township=township, assigned_at=now,
        deadline=now + dt.timedelta(days=5),
    )
    suggestion = task.suggestions.get()
    suggestion.registered_by = cast.registrar
    suggestion.save(update_fields=["registered_by"])

    project = Project.objects.create(
        department=zhujian, name="老旧小区改造", year=today.year,
        starts_on=today - dt.timedelta(days=30), due_on=today + dt.timedelta(days=300),
    )
    indicator = Indicator.objects.create(project=project, name="改造小区", unit="个", target=100, due_on=project.due_on)
    update = ProgressUpdate.objects.create(
        project=project, recorded_on=today, recorded_by=cast.handler_zhujian, note="进展"
    )
    evidence = Evidence(update=update, original_name="photo.png", content_type="image/png", size=len(PNG))
    evidence.file.save("photo.png", ContentFile(PNG), save=True)

    episode = TvEpisode.objects.create(aired_on=today - dt.timedelta(days=7), title="问政住建")
    episode.departments.add(zhujian)
    mechanism = Mechanism(
        episode=episode, department=zhujian, title="物业巡查机制", established_on=today,
        document_name="mechanism.png", document_type="image/png",
    )
    mechanism.document.save("mechanism.png", ContentFile(PNG), save=True)
    accountability = AccountabilitySuggestion.objects.create(
        episode=episode, department=zhujian, task=task, text="建议问责", created_by=cast.supervisor
    )

    job = ImportJob(original_name="import.xlsx", uploaded_by=cast.registrar, status=ImportJob.Status.DONE)
    job.file.save("import.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    job.error_report.save("import-errors.csv", ContentFile("行,错误\n2,联系电话\n".encode()), save=True)

    exclusion = ScoreExclusion(
        task=task, department=zhujian, reason=ScoreExclusion.Reason.UNREASONABLE, text="诉求不合理",
        requested_by=cast.handler_zhujian, evidence_name="photo.png", evidence_type="image/png",
    )
    exclusion.evidence.save("photo.png", ContentFile(PNG), save=True)

    notification = Notification.objects.create(
        recipient=cast.handler_zhujian, task=task, level=list(ReminderLevel)[0], deadline=task.deadline
    )
    reply_template = ReplyTemplate.objects.create(
        title="已解决", body="{citizen}您好：问题已解决。", department=zhujian
    )
    return types.SimpleNamespace(
        reply_template=reply_template, task=task, suggestion=suggestion, project=project, indicator=indicator, evidence=evidence,
        episode=episode, mechanism=mechanism, accountability=accountability, job=job,
        notification=notification, exclusion=exclusion, township=township, department=zhujian, today=today,
    )
