"""Forms of the task detail page: one small form per lifecycle action.

A form validates what the user typed (field errors a person can act on) and hands the
cleaned values to its service as keyword arguments; the service keeps the lifecycle's
rules. Every form takes the task and the user, so a check may depend on them (closing a
replied task needs a note; a merge target must be visible to the user).
"""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from feedback.models import CallbackResult
from org.models import Department
from tasks import deadlines
from tasks.models import Outcome, State, SupervisionLevel, Task, TaskRequest
from tasks.selectors import tasks_visible_to
from tasks.services._base import MAX_TEXT
from tasks.services.dispatch import MAX_DEADLINE_DAYS


def _text(label, *, required: bool, missing=None, rows: int = 2) -> forms.CharField:
    messages = {"required": missing} if missing else {}
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        strip=True,
        error_messages=messages,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _date(label, *, required: bool, help_text="") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        error_messages={"invalid": _("Enter a valid date, for example 2021-11-30.")},
        # ISO values, as <input type="date"> sends and expects whatever the language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _not_past(value: dt.date | None) -> dt.date | None:
    if value is not None and value < timezone.localdate():
        raise forms.ValidationError(_("This date has already passed; choose today or a later day."))
    return value


class ActionForm(forms.Form):
    """Base: `task` and `user` for checks; `service_kwargs()` is what the service receives."""

    button = pgettext_lazy("task action", "Submit")  # the submit button and the action's heading
    success = _("Done.")  # the message after the redirect
    primary = False  # the page's main next step, drawn as a filled button

    def __init__(self, *args, task: Task, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.task, self.user = task, user

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class _OptionalNote(ActionForm):
    note = _text(_("Note (optional)"), required=False)


class ReportForm(_OptionalNote):
    button = pgettext_lazy("task action", "Report to the leader")
    success = _("The task was reported to the leader.")
    primary = True


class ReviewForm(ActionForm):
    button = pgettext_lazy("task action", "Review")
    success = _("Your review was recorded.")
    primary = True
    note = _text(_("Instruction (optional)"), required=False, rows=3)


class AssignForm(ActionForm):
    button = pgettext_lazy("task action", "Assign")
    success = _("The task was assigned.")
    primary = True
    lead_department = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.none(),
        error_messages={"required": _("Choose the lead department.")},
    )
    assisting_departments = forms.ModelMultipleChoiceField(
        label=_("Assisting departments (optional)"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )
    deadline = _date(_("Deadline date (optional)"), required=False)
    deadline_days = forms.IntegerField(
        label=_("or: working days (optional)"),
        required=False,
        min_value=1,
        max_value=MAX_DEADLINE_DAYS,
        error_messages={
            "invalid": _("Enter a whole number of working days."),
            "min_value": _("At least 1 working day."),
            "max_value": _("At most %(limit_value)s working days."),
        },
    )
    assist_deadline = _date(
        _("Assisting departments' deadline (optional)"),
        required=False,
        help_text=_("Blank: two working days before the lead department's deadline."),
    )
    note = _text(_("Note (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handling = Department.objects.filter(is_active=True).exclude(kind=Department.Kind.SUPERVISION)
        self.fields["lead_department"].queryset = handling
        self.fields["assisting_departments"].queryset = handling
        self.fields["assisting_departments"].widget.attrs["size"] = 6
        rule = deadlines.stage_deadlines(
            category=self.task.category, urgency=self.task.urgency, channel=self.task.channel, start=timezone.now()
        )
        self.fields["deadline"].help_text = _("Leave both blank for the rule's deadline: %(deadline)s.") % {
            "deadline": timezone.localtime(rule.handle).strftime("%Y-%m-%d %H:%M")
        }

    def clean_deadline(self):
        return _not_past(self.cleaned_data["deadline"])

    def clean_assist_deadline(self):
        return _not_past(self.cleaned_data["assist_deadline"])

    def clean(self):
        cleaned = super().clean()
        lead, assisting = cleaned.get("lead_department"), cleaned.get("assisting_departments") or []
        if cleaned.get("assist_deadline") is not None and not assisting:
            self.add_error("assist_deadline", _("A deadline for assisting departments needs an assisting department."))
        if lead is not None and lead in assisting:
            self.add_error("assisting_departments", _("The lead department cannot also assist."))
        if cleaned.get("deadline") is not None and cleaned.get("deadline_days") is not None:
            self.add_error("deadline_days", _("Give either a deadline date or a number of working days, not both."))
        return cleaned


class ArbitrateForm(AssignForm):
    """仲裁: assignment of a task returned twice; the department named may not return it again."""

    button = pgettext_lazy("task action", "Arbitrate")
    success = _("The task was arbitrated and assigned; the lead department may not return it again.")
    note = _text(
        _("Grounds of the arbitration"), required=True,
        missing=_("Give the grounds of the arbitration: why this department leads the task."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].label = _("Lead department (final)")


class AcceptForm(_OptionalNote):
    button = pgettext_lazy("task action", "Accept")
    success = _("The task was accepted.")
    primary = True


class NoteProgressForm(ActionForm):
    button = pgettext_lazy("task action", "Note progress")
    success = _("The progress was recorded.")
    note = _text(_("Progress"), required=True, missing=_("Describe the progress made."), rows=3)


class ReplyForm(ActionForm):
    button = pgettext_lazy("task action", "Reply")
    success = _("The reply was recorded.")
    primary = True
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the outcome: resolved, explained or cannot be resolved.")},
    )
    reply = _text(_("Reply to the citizen"), required=False, rows=4)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") and not cleaned.get("reply"):
            if cleaned["outcome"] == Outcome.UNRESOLVABLE:
                self.add_error("reply", _("Give the reason why the problem cannot be resolved."))
            else:
                self.add_error("reply", _("Write the reply to the citizen."))
        return cleaned


class ApproveReplyForm(_OptionalNote):
    button = pgettext_lazy("task action", "Approve the reply")
    success = _("The reply was approved and sent out.")
    primary = True


class RejectReplyForm(ActionForm):
    button = pgettext_lazy("task action", "Send the reply back")
    success = _("The reply was sent back to the handler.")
    note = _text(_("Why it is sent back"), required=True, missing=_("Say why the reply is sent back."))


class AssistReplyForm(ActionForm):
    button = pgettext_lazy("task action", "Reply as assisting department")
    success = _("Your department's reply was recorded.")
    primary = True
    reply = _text(_("Your department's reply"), required=True, missing=_("Write your department's reply."), rows=3)


class RecordCallbackForm(ActionForm):
    button = pgettext_lazy("task action", "Record the callback")
    success = _("The callback was recorded.")
    primary = True
    result = forms.ChoiceField(
        label=_("The citizen is"),
        choices=CallbackResult.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the callback result: satisfied, basically satisfied or unsatisfied.")},
    )
    note = _text(_("Note (required when unsatisfied: the task is then reopened)"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("result") == CallbackResult.UNSATISFIED and not cleaned.get("note"):
            self.add_error("note", _("Say what the citizen is unsatisfied with."))
        return cleaned


class CloseForm(ActionForm):
    button = pgettext_lazy("task action", "Close")
    success = _("The task was closed.")
    note = _text(_("Note (required without a callback)"), required=False)

    def clean_note(self):
        note = self.cleaned_data["note"]
        if self.task.state == State.REPLIED and not note:
            raise forms.ValidationError(
                _("Closing without a callback needs a note saying why (for example: citizen unreachable, anonymous).")
            )
        return note


class RequestReturnForm(ActionForm):
    """退单: a reason code, and words (required for "other"); the service checks both again."""

    button = pgettext_lazy("task action", "Ask to return")
    success = _("The return request was sent to the supervision office.")
    reason_code = forms.ChoiceField(
        label=_("Reason for the return"),
        choices=TaskRequest.ReturnReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the reason for the return."),
            "invalid_choice": _("Choose one of the listed reasons for the return."),
        },
    )
    reason = _text(_("Details (required for “other”)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("The handling clock stops until the supervision office decides.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason_code") == TaskRequest.ReturnReason.OTHER and not cleaned.get("reason"):
            self.add_error("reason", _("Describe the reason for the return when it is “other”."))
        return cleaned


class ApproveReturnForm(_OptionalNote):
    button = pgettext_lazy("task action", "Approve the return")
    success = _("The return was approved; the task is back in the dispatch queue.")


class RefuseReturnForm(ActionForm):
    button = pgettext_lazy("task action", "Refuse the return")
    success = _("The return was refused.")
    note = _text(_("Reason"), required=True, missing=_("Give the reason for refusing the return."))


class RequestExtensionForm(ActionForm):
    button = pgettext_lazy("task action", "Ask for an extension")
    success = _("The extension request was sent to the supervision office.")
    deadline = _date(_("New deadline"), required=True)
    reason = _text(_("Reason"), required=True, missing=_("An extension request needs a reason."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deadline"].error_messages["required"] = _("Choose the new deadline.")

    def clean_deadline(self):
        value = _not_past(self.cleaned_data["deadline"])
        current = self.task.deadline
        if current is not None and value <= timezone.localdate(current):
            raise forms.ValidationError(
                _("The new deadline must be after the current one (%(deadline)s).")
                % {"deadline": timezone.localdate(current)}
            )
        return value


class ApproveExtensionForm(ActionForm):
    button = pgettext_lazy("task action", "Approve the extension")
    success = _("The extension was approved; the deadline has moved.")
    deadline = _date(_("Grant another date (optional)"), required=False, help_text=_("Blank: the requested date."))
    note = _text(_("Note (optional)"), required=False)

    def clean_deadline(self):
        return _not_past(self.cleaned_data["deadline"])


class RefuseExtensionForm(ActionForm):
    button = pgettext_lazy("task action", "Refuse the extension")
    success = _("The extension was refused; the deadline stays.")
    note = _text(_("Reason"), required=True, missing=_("Give the reason for refusing the extension."))


class SuperviseForm(ActionForm):
    button = pgettext_lazy("task action", "Set supervision")
    success = _("The supervision level was set.")
    level = forms.TypedChoiceField(
        label=_("Supervision level"),
        choices=SupervisionLevel.choices,
        coerce=int,
        error_messages={"required": _("Choose the supervision level.")},
    )
    note = _text(_("Note (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("level", min(self.task.supervision_level + 1, SupervisionLevel.LISTED))


class MergeForm(ActionForm):
    """This task is a duplicate: merge it (and its suggestions) into another task."""

    button = pgettext_lazy("task action", "Merge into another task")
    success = _("The task was merged.")
    target = forms.IntegerField(
        label=_("Number of the task to merge into"),
        min_value=1,
        error_messages={"required": _("Give the number of the task to merge into.")},
    )
    note = _text(_("Note (optional)"), required=False)

    def clean_target(self):
        number = self.cleaned_data["target"]
        target = tasks_visible_to(self.user).filter(pk=number).first()
        if target is None:
            raise forms.ValidationError(_("There is no task #%(id)s.") % {"id": number})
        return target


class ReopenLookBackForm(ActionForm):
    button = pgettext_lazy("task action", "Reopen (look-back)")
    success = _("The task was reopened for redo.")
    note = _text(_("What the look-back review found"), required=True, missing=_("Say what the look-back review found."))
