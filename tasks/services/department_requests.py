"""退单 and 延期: a department asks to hand a task back or for more time; the supervisor decides."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks import clocks
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskAssist, TaskRequest

from ._base import as_deadline, clean_text, copy_back, iso, lapse_pending_extension
from ._base import lock_and_authorize, record
from .assists import assists_follow_lead_deadline

Kind, Status, ReturnReason = TaskRequest.Kind, TaskRequest.Status, TaskRequest.ReturnReason


def _pending(task: Task, kind: str) -> TaskRequest:
    # The rule table already checked that one exists; the task row lock keeps it so.
    return TaskRequest.objects.get(task=task, kind=kind, status=Status.PENDING)


def _open_request(**fields) -> TaskRequest:
    try:
        # A savepoint, so a lost race leaves the outer transaction usable for the error.
        with transaction.atomic():
            return TaskRequest.objects.create(**fields)
    except IntegrityError as exc:
        raise DomainError(
            _("A %(kind)s request is already pending on this task; wait for the supervisor's decision.")
            % {"kind": Kind(fields["kind"]).label}
        ) from exc


def _decide(request: TaskRequest, *, status, actor, now, note, granted=None) -> None:
    request.status, request.decided_by, request.decided_at = status, actor, now
    request.decision_note, request.granted_deadline = note, granted
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "granted_deadline"])


def _clean_return_reason(reason_code: str, reason) -> tuple[str, str]:
    """A valid reason code, and the text (required for "other")."""
    codes = ReturnReason.values
    if reason_code not in codes:
        choices = _(", ").join(str(label) for label in ReturnReason.labels)
        if not reason_code:
            raise DomainError(_("Choose the reason for the return: %(choices)s.") % {"choices": choices},
                              field="reason_code")
        raise DomainError(
            _("“%(code)s” is not a reason for a return; choose one of: %(choices)s.")
            % {"code": reason_code, "choices": choices},
            field="reason_code",
        )
    missing = _("Describe the reason for the return when it is “other”.") if reason_code == ReturnReason.OTHER else None
    try:
        text = clean_text(reason, missing=missing)
    except DomainError as exc:
        raise DomainError(exc.message, field="reason") from exc
    return reason_code, text


def task_request_return(
    *, actor: User, task: Task, reason_code: str, reason: str = "", now: dt.datetime | None = None
) -> TaskRequest:
    """The lead department asks to hand back a wrongly assigned task (退单) with a reason code; its clock stops."""
    now = now or timezone.now()
    reason_code, reason = _clean_return_reason(reason_code, reason)
    with transaction.atomic():
        locked = lock_and_authorize("request_return", task, actor)
        from_state = locked.state
        request = _open_request(
            task=locked, kind=Kind.RETURN, department_id=locked.lead_department_id, reason=reason,
            reason_code=reason_code, previous_state=from_state, requested_by=actor, requested_at=now,
        )
        locked.state = State.RETURN_REQUESTED
        locked.clock_paused_at = now
        locked.save(update_fields=["state", "clock_paused_at"])
        record(
            locked, action=Action.REQUEST_RETURN, actor=actor, at=now, from_state=from_state, note=reason,
            data={"request": request.pk, "reason_code": reason_code, "deadline": iso(locked.deadline)},
        )
    copy_back(locked, task)
    return request


def task_approve_return(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """The supervisor accepts a return: the task goes back to the dispatch queue without departments."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("approve_return", task, actor)
        request = _pending(locked, Kind.RETURN)
        _decide(request, status=Status.APPROVED, actor=actor, now=now, note=note)
        assists = list(TaskAssist.objects.filter(task=locked).values("department_id", "deadline", "reply"))
        data = {
            "request": request.pk,
            "lead_department": locked.lead_department_id,
            "assisting_departments": [a["department_id"] for a in assists],
            "assist_replies": {str(a["department_id"]): a["reply"] for a in assists if a["reply"]},
            "deadline": iso(locked.deadline),
            "accept_deadline": iso(locked.accept_deadline),
            "accepted_at": iso(locked.accepted_at),
            "lapsed_extension_request": lapse_pending_extension(locked, actor=actor, now=now),
        }
        TaskAssist.objects.filter(task=locked).delete()
        locked.state = State.RETURNED
        locked.return_count += 1
        data["return_count"] = locked.return_count
        data["paused_seconds"] = clocks.pause_seconds(locked.clock_paused_at or now, now)
        # The next department starts on a fresh clock, set when the task is assigned again.
        locked.lead_department = locked.deadline = locked.accept_deadline = locked.accepted_at = None
        locked.clock_paused_at = None
        locked.save(
            update_fields=["state", "lead_department", "deadline", "accept_deadline", "accepted_at", "return_count",
                           "clock_paused_at"]
        )
        record(
            locked, action=Action.APPROVE_RETURN, actor=actor, at=now, from_state=State.RETURN_REQUESTED, note=note,
            data=data,
        )
    return copy_back(locked, task)


def task_refuse_return(*, actor: User, task: Task, note: str, now: dt.datetime | None = None) -> Task:
    """The supervisor refuses a return: the task resumes with its department and the time that was left.

    The deadlines move by the rule of tasks.clocks.resumed_deadline; the pause is added to
    Task.paused_seconds.
    """
    now = now or timezone.now()
    note = clean_text(note, missing=_("Give the reason for refusing the return."))
    with transaction.atomic():
        locked = lock_and_authorize("refuse_return", task, actor)
        request = _pending(locked, Kind.RETURN)
        _decide(request, status=Status.REFUSED, actor=actor, now=now, note=note)
        # A task paused before the clock was recorded (older rows) resumes from the request's time.
        paused_at = locked.clock_paused_at or request.requested_at
        previous = {"deadline": locked.deadline, "accept_deadline": locked.accept_deadline}
        if locked.deadline is not None:
            locked.deadline = clocks.resumed_deadline(locked.deadline, paused_at=paused_at, resumed_at=now)
        if locked.accepted_at is None and locked.accept_deadline is not None:
            locked.accept_deadline = clocks.resumed_deadline(
                locked.accept_deadline, paused_at=paused_at, resumed_at=now
            )
        paused = clocks.pause_seconds(paused_at, now)
        locked.state = request.previous_state or State.ACCEPTED
        locked.clock_paused_at = None
        locked.paused_seconds += paused
        locked.save(update_fields=["state", "deadline", "accept_deadline", "clock_paused_at", "paused_seconds"])
        # Open parts only: a replied or waived part's sub-deadline is the record of when it was due.
        moved = {}
        open_parts = TaskAssist.objects.filter(
            task=locked, replied_at__isnull=True, waived_at__isnull=True, deadline__isnull=False
        )
        for assist in open_parts:
            resumed = clocks.resumed_deadline(assist.deadline, paused_at=paused_at, resumed_at=now)
            if resumed != assist.deadline:
                TaskAssist.objects.filter(pk=assist.pk).update(deadline=resumed)
                moved[str(assist.department_id)] = iso(resumed)
        record(
            locked, action=Action.REFUSE_RETURN, actor=actor, at=now, from_state=State.RETURN_REQUESTED, note=note,
            data={"request": request.pk, "paused_at": iso(paused_at), "paused_seconds": paused,
                  "previous_deadline": iso(previous["deadline"]), "deadline": iso(locked.deadline),
                  "previous_accept_deadline": iso(previous["accept_deadline"]),
                  "accept_deadline": iso(locked.accept_deadline), "assist_deadlines": moved},
        )
    return copy_back(locked, task)


def task_request_extension(
    *, actor: User, task: Task, deadline: dt.date | dt.datetime, reason: str, now: dt.datetime | None = None
) -> TaskRequest:
    """The lead department asks for a later deadline (延期); the clock keeps running meanwhile."""
    now = now or timezone.now()
    reason = clean_text(reason, missing=_("An extension request needs a reason."))
    requested = as_deadline(deadline, now=now)
    with transaction.atomic():
        locked = lock_and_authorize("request_extension", task, actor)
        _check_later(requested, locked)
        request = _open_request(
            task=locked, kind=Kind.EXTENSION, department_id=locked.lead_department_id, reason=reason,
            requested_deadline=requested, requested_by=actor, requested_at=now,
        )
        record(
            locked, action=Action.REQUEST_EXTENSION, actor=actor, at=now, from_state=locked.state, note=reason,
            data={"request": request.pk, "requested_deadline": iso(requested), "deadline": iso(locked.deadline)},
        )
    copy_back(locked, task)
    return request


def _check_later(new_deadline: dt.datetime, task: Task) -> None:
    if task.deadline is not None and new_deadline <= task.deadline:
        raise DomainError(
            _("The new deadline must be after the current one (%(deadline)s).")
            % {"deadline": timezone.localtime(task.deadline).date()}
        )


def task_approve_extension(
    *,
    actor: User,
    task: Task,
    deadline: dt.date | dt.datetime | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Task:
    """The supervisor grants the requested deadline, or another later one; reminders restart for it."""
    now = now or timezone.now()
    note = clean_text(note)
    granted = as_deadline(deadline, now=now) if deadline is not None else None
    with transaction.atomic():
        locked = lock_and_authorize("approve_extension", task, actor)
        request = _pending(locked, Kind.EXTENSION)
        if granted is None:
            granted = request.requested_deadline
            if granted <= now:
                raise DomainError(
                    _("The requested deadline %(deadline)s has passed; grant another date.")
                    % {"deadline": timezone.localtime(granted).date()}
                )
        _check_later(granted, locked)
        previous = locked.deadline
        _decide(request, status=Status.APPROVED, actor=actor, now=now, note=note, granted=granted)
        locked.deadline = granted
        locked.extension_count += 1
        locked.save(update_fields=["deadline", "extension_count"])
        # Assisting departments that have not answered yet get their sub-deadline moved too.
        moved = assists_follow_lead_deadline(locked, now=now)
        record(
            locked, action=Action.APPROVE_EXTENSION, actor=actor, at=now, from_state=locked.state, note=note,
            data={"request": request.pk, "previous_deadline": iso(previous), "deadline": iso(granted),
                  "requested_deadline": iso(request.requested_deadline), "assist_deadlines": moved},
        )
    return copy_back(locked, task)


def task_refuse_extension(*, actor: User, task: Task, note: str, now: dt.datetime | None = None) -> Task:
    """The supervisor refuses an extension: the deadline stays."""
    now = now or timezone.now()
    note = clean_text(note, missing=_("Give the reason for refusing the extension."))
    with transaction.atomic():
        locked = lock_and_authorize("refuse_extension", task, actor)
        request = _pending(locked, Kind.EXTENSION)
        _decide(request, status=Status.REFUSED, actor=actor, now=now, note=note)
        record(
            locked, action=Action.REFUSE_EXTENSION, actor=actor, at=now, from_state=locked.state, note=note,
            data={"request": request.pk},
        )
    return copy_back(locked, task)
