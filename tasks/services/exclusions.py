"""考核核减: the lead department applies to leave a task out of its report card; the supervision office decides.

Each step locks the task row, re-checks the rule table (tasks.services.rules.EXCLUSION_RULES)
and writes one timeline entry. A department has at most one open (pending or approved)
application per task, held by a unique constraint, so two clicks cannot open two. An
approved exclusion changes no list: only the report card figures leave the task out,
while the department that applied leads it (tasks.reportcards.definitions).

Evidence is optional: one PNG, JPEG or PDF file, its type judged from its first bytes,
stored under a random name and served only by tasks.views.exclusions after a permission check.
"""

import datetime as dt
import os

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks.errors import DomainError
from tasks.models import Action, ScoreExclusion, Task
from tasks.projects import files

from ._base import clean_text, lock_and_authorize, record

Status = ScoreExclusion.Status
EVIDENCE_TYPES = ("image/png", "image/jpeg", "application/pdf")
EVIDENCE_ACCEPT = ".png,.jpg,.jpeg,.pdf,image/png,image/jpeg,application/pdf"
EVIDENCE_FOLDER = "exclusions"


def exclusion_evidence_check(upload) -> files.CheckedFile | None:
    """The evidence file checked by its content (PNG, JPEG or PDF only) and size; None without one."""
    if upload is None:
        return None
    upload.seek(0)
    found = files.sniff(upload.read(16))
    upload.seek(0)
    if found is None or found[0] not in EVIDENCE_TYPES:
        raise DomainError(
            _("%(name)s is not a PNG or JPEG image or a PDF document (judged by its content, not its name).")
            % {"name": os.path.basename(getattr(upload, "name", "") or "")},
            field="evidence",
        )
    try:
        return files.file_check(upload)  # the size limits
    except DomainError as exc:
        raise DomainError(exc.message, field="evidence") from exc


def task_request_exclusion(
    *,
    actor: User,
    task: Task,
    reason: str,
    text: str,
    evidence=None,
    now: dt.datetime | None = None,
) -> ScoreExclusion:
    """The lead department applies to exclude the task from its report card (核减), with a reason and evidence."""
    now = now or timezone.now()
    if reason not in ScoreExclusion.Reason.values:
        raise DomainError(_("Choose the reason for the exclusion."), field="reason")
    text = clean_text(text, missing=_("Explain why the task should not count in the report card."))
    checked = exclusion_evidence_check(evidence)
    stored = files.file_store(checked, folder=EVIDENCE_FOLDER, now=now) if checked else ""
    try:
        with transaction.atomic():
            locked = lock_and_authorize("request_exclusion", task, actor)
            exclusion = _open(
                task=locked, department_id=locked.lead_department_id, reason=reason, text=text,
                evidence=stored, evidence_name=checked.name if checked else "",
                evidence_type=checked.content_type if checked else "", requested_by=actor, requested_at=now,
            )
            record(
                locked, action=Action.REQUEST_EXCLUSION, actor=actor, at=now, from_state=locked.state, note=text,
                data={"exclusion": exclusion.pk, "department": locked.lead_department_id, "reason": reason},
            )
    except BaseException:
        files.files_delete([stored] if stored else [])
        raise
    return exclusion


def _open(**fields) -> ScoreExclusion:
    try:
        # A savepoint, so a lost race leaves the outer transaction usable for the error.
        with transaction.atomic():
            return ScoreExclusion.objects.create(**fields)
    except IntegrityError as exc:
        raise DomainError(
            _("Your department already has a pending or approved score exclusion for this task.")
        ) from exc


def _decide(*, actor: User, exclusion: ScoreExclusion, status: str, note: str, now) -> ScoreExclusion:
    with transaction.atomic():
        locked = lock_and_authorize("decide_exclusion", exclusion.task, actor)
        current = ScoreExclusion.objects.select_for_update().get(pk=exclusion.pk)
        if current.status != Status.PENDING:
            raise DomainError(
                _("This score exclusion was already decided (%(status)s).") % {"status": current.get_status_display()}
            )
        current.status, current.decided_by, current.decided_at, current.decision_note = status, actor, now, note
        current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        action = Action.APPROVE_EXCLUSION if status == Status.APPROVED else Action.REFUSE_EXCLUSION
        record(
            locked, action=action, actor=actor, at=now, from_state=locked.state, note=note,
            data={"exclusion": current.pk, "department": current.department_id, "reason": current.reason},
        )
    for field in ("status", "decided_by_id", "decided_at", "decision_note"):
        setattr(exclusion, field, getattr(current, field))
    return exclusion


def exclusion_approve(
    *, actor: User, exclusion: ScoreExclusion, note: str = "", now: dt.datetime | None = None
) -> ScoreExclusion:
    """The supervisor approves: the task leaves the department's figures (it stays in every list)."""
    return _decide(actor=actor, exclusion=exclusion, status=Status.APPROVED, note=clean_text(note),
                   now=now or timezone.now())


def exclusion_refuse(
    *, actor: User, exclusion: ScoreExclusion, note: str, now: dt.datetime | None = None
) -> ScoreExclusion:
    """The supervisor refuses: nothing changes in the figures; the department may apply again."""
    note = clean_text(note, missing=_("Give the reason for refusing the score exclusion."))
    return _decide(actor=actor, exclusion=exclusion, status=Status.REFUSED, note=note, now=now or timezone.now())
