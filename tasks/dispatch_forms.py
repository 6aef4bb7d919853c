"""Forms of the dispatch queue and the same-day list, and the bulk steps they hand to.

A bulk step (assign, report, merge several selected tasks) runs the lifecycle's own
service for each task inside ONE transaction: if any task refuses (awaiting the leader's
review, assigned meanwhile by a colleague, gone), the whole step is rolled back and the
refusal names the task. The services lock each row as they go; the tasks are taken in id
order, so two supervisors' overlapping selections cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from feedback.models import Category, Channel, Suggestion
from org.models import Department, Township, User
from tasks import services
from tasks.errors import DomainError
from tasks.models import UNASSIGNED_STATES, Task
from tasks.selectors import tasks_visible_to
from tasks.services._base import MAX_TEXT
from tasks.services.dispatch import MAX_DEADLINE_DAYS

from .dispatch_selectors import SAME_DAY_MAX_DAYS, TARGETS

# One page of the queue is 50 rows; a hand-made POST may not lock thousands of rows.
MAX_BULK = 100


# --- Bulk steps (all or nothing) -------------------------------------------------------


class BulkRefusal(DomainError):
    """One task of a bulk step refused, so nothing was done; names the task and the reason."""

    def __init__(self, *, task_id: int, tracking_number: str | None, reason):
        self.task_id, self.tracking_number, self.reason = task_id, tracking_number, reason
        name = f"#{task_id} ({tracking_number})" if tracking_number else f"#{task_id}"
        super().__init__(gettext("Task %(task)s: %(reason)s") % {"task": name, "reason": reason})


def _first_tracking_number(task_id: int) -> str | None:
    return (
        Suggestion.objects.filter(task_id=task_id)
        .order_by("received_at", "pk")
        .values_list("tracking_number", flat=True)
        .first()
    )


def _checked_ids(task_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(task_ids))
    if not ids:
        raise DomainError(gettext("Select at least one task."))
    if len(ids) > MAX_BULK:
        raise DomainError(
            gettext("Select at most %(max)d tasks at a time; %(count)d were selected.")
            % {"max": MAX_BULK, "count": len(ids)}
        )
    return ids


def _each_or_none(*, actor: User, task_ids: Iterable[int], step: Callable[[Task], Task]) -> list[Task]:
    """Run `step` on every task in id order inside one transaction; the first refusal undoes them all."""
    ids = _checked_ids(task_ids)
    with transaction.atomic():
        found = tasks_visible_to(actor).in_bulk(ids)
        done = []
        for pk in ids:
            try:
                if pk not in found:
                    raise DomainError(gettext("This task no longer exists."))
                done.append(step(found[pk]))
            except DomainError as exc:
                # Raised inside the atomic block: every task done so far is rolled back.
                raise BulkRefusal(task_id=pk, tracking_number=_first_tracking_number(pk), reason=exc) from exc
    return done


def tasks_assign_bulk(
    *,
    actor: User,
    task_ids: Iterable[int],
    lead_department: Department,
    assisting_departments: Iterable[Department] = (),
    deadline: dt.date | None = None,
    deadline_days: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> list[Task]:
    """Assign (交办) several tasks to the same departments in one step: all of them, or none if one refuses."""
    now = now or timezone.now()
    assisting = list(assisting_departments)

    def assign(task: Task) -> Task:
        return services.task_assign(
            actor=actor, task=task, lead_department=lead_department, assisting_departments=assisting,
            deadline=deadline, deadline_days=deadline_days, note=note, now=now,
        )

    return _each_or_none(actor=actor, task_ids=task_ids, step=assign)


def tasks_report_bulk(
    *, actor: User, task_ids: Iterable[int], note: str = "", now: dt.datetime | None = None
) -> list[Task]:
    """Report (上报) several registered tasks to the leader in one step: all of them, or none if one refuses."""
    now = now or timezone.now()
    return _each_or_none(
        actor=actor,
        task_ids=task_ids,
        step=lambda task: services.task_report(actor=actor, task=task, note=note, now=now),
    )


def tasks_merge_selected(
    *, actor: User, task_ids: Iterable[int], target_id: int, note: str = "", now: dt.datetime | None = None
) -> Task:
    """Merge the selected tasks into the one chosen among them (services.task_merge: all or nothing)."""
    ids = _checked_ids(task_ids)
    if len(ids) < 2:
        raise DomainError(gettext("Select at least two tasks to merge."))
    if target_id not in ids:
        raise DomainError(gettext("Choose the task to keep among the selected tasks."))
    found = tasks_visible_to(actor).in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise BulkRefusal(
            task_id=missing[0], tracking_number=_first_tracking_number(missing[0]),
            reason=gettext("This task no longer exists."),
        )
    sources = [found[pk] for pk in ids if pk != target_id]
    return services.task_merge(actor=actor, target=found[target_id], sources=sources, note=note, now=now)


# --- Forms -----------------------------------------------------------------------------


def _date(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        error_messages={"invalid": _("Enter a valid date, for example 2021-11-30.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _note(label=_("Note (optional)")) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=MAX_TEXT, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )


def _any(label, choices) -> list:
    return [("", label), *choices]


class DispatchFilterForm(forms.Form):
    """The queue's filters (GET); a wrong value is reported and that filter left out."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=_any(_("All unassigned"), [(s.value, s.label) for s in UNASSIGNED_STATES]),
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=_any(_("All channels"), Channel.choices))
    township = forms.ModelChoiceField(
        label=_("Township"), required=False, queryset=Township.objects.all(), empty_label=_("All townships")
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_any(_("All categories"), Category.choices)
    )
    received_from = _date(_("Received from"))
    received_to = _date(_("Received until"))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("received_from"), cleaned.get("received_to")
        if first and last and last < first:
            self.add_error("received_to", _("The end date %(last)s is before the start date %(first)s.") % {
                "last": last, "first": first})
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as keyword arguments of dispatch_selectors.dispatch_queue."""
        self.is_valid()
        values = getattr(self, "cleaned_data", {})
        return {name: values.get(name) for name in self.fields if name not in self.errors and values.get(name)}


class TaskSelectionField(forms.Field):
    """The ticked rows of the queue: task numbers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one task in the list."),
        "invalid": _("“%(value)s” is not a task number."),
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        ids = []
        for item in value if isinstance(value, (list, tuple)) else [value]:
            try:
                ids.append(int(str(item).strip()))
            except ValueError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid", params={"value": item})
        return sorted(set(ids))

    def validate(self, value):
        super().validate(value)
        if len(value) > MAX_BULK:
            raise forms.ValidationError(
                _("Select at most %(max)d tasks at a time; %(count)d were selected."),
                params={"max": MAX_BULK, "count": len(value)},
            )


class BulkForm(forms.Form):
    """Base of the queue's bulk steps; `perform()` calls the step and returns the success message."""

    action = ""
    tasks = TaskSelectionField()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def perform(self, *, now: dt.datetime | None = None) -> str:
        raise NotImplementedError


def _task_list(tasks) -> str:
    return ", ".join(f"#{task.pk}" for task in tasks)


class BulkAssignForm(BulkForm):
    """Assign the selected tasks to one lead department (optionally assisting ones and a deadline)."""

    action = "assign"
    lead_department = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.none(),
        error_messages={"required": _("Choose the lead department.")},
    )
    assisting_departments = forms.ModelMultipleChoiceField(
        label=_("Assisting departments (optional)"), queryset=Department.objects.none(), required=False
    )
    deadline = _date(_("Deadline date (optional)"))
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
    assign_note = _note()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handling = Department.objects.filter(is_active=True).exclude(kind=Department.Kind.SUPERVISION)
        self.fields["lead_department"].queryset = handling
        self.fields["assisting_departments"].queryset = handling
        self.fields["assisting_departments"].widget.attrs["size"] = 5
        self.fields["deadline"].help_text = _("Leave both blank for each task's deadline by the rules.")

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError(_("This date has already passed; choose today or a later day."))
        return value

    def clean(self):
        cleaned = super().clean()
        lead, assisting = cleaned.get("lead_department"), cleaned.get("assisting_departments") or []
        if lead is not None and lead in assisting:
            self.add_error("assisting_departments", _("The lead department cannot also assist."))
        if cleaned.get("deadline") is not None and cleaned.get("deadline_days") is not None:
            self.add_error("deadline_days", _("Give either a deadline date or a number of working days, not both."))
        return cleaned

    def perform(self, *, now=None) -> str:
        data = self.cleaned_data
        done = tasks_assign_bulk(
            actor=self.user, task_ids=data["tasks"], lead_department=data["lead_department"],
            assisting_departments=data["assisting_departments"], deadline=data["deadline"],
            deadline_days=data["deadline_days"], note=data["assign_note"], now=now,
        )
        return ngettext(
            "%(count)d task was assigned to %(department)s: %(tasks)s.",
            "%(count)d tasks were assigned to %(department)s: %(tasks)s.",
            len(done),
        ) % {"count": len(done), "department": data["lead_department"], "tasks": _task_list(done)}


class BulkReportForm(BulkForm):
    """Report the selected (registered) tasks to the leader."""

    action = "report"
    report_note = _note()

    def perform(self, *, now=None) -> str:
        done = tasks_report_bulk(actor=self.user, task_ids=self.cleaned_data["tasks"],
                                 note=self.cleaned_data["report_note"], now=now)
        return ngettext(
            "%(count)d task was reported to the leader: %(tasks)s.",
            "%(count)d tasks were reported to the leader: %(tasks)s.",
            len(done),
        ) % {"count": len(done), "tasks": _task_list(done)}


class BulkMergeForm(BulkForm):
    """Merge the selected tasks into the one marked "keep"."""

    action = "merge"
    merge_target = forms.IntegerField(
        label=_("Task to keep"),
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"required": _("Mark the task to keep (“keep” in its row) among the selected tasks.")},
    )
    merge_note = _note()

    def clean(self):
        cleaned = super().clean()
        selected, target = cleaned.get("tasks") or [], cleaned.get("merge_target")
        if "tasks" not in self.errors and len(selected) < 2:
            self.add_error("tasks", _("Select at least two tasks to merge."))
        elif target is not None and selected and target not in selected:
            self.add_error(
                "merge_target", _("The task to keep, #%(id)s, is not among the selected tasks.") % {"id": target}
            )
        return cleaned

    def perform(self, *, now=None) -> str:
        data = self.cleaned_data
        kept = tasks_merge_selected(
            actor=self.user, task_ids=data["tasks"], target_id=data["merge_target"], note=data["merge_note"], now=now
        )
        merged = [pk for pk in data["tasks"] if pk != kept.pk]
        return gettext("Tasks %(tasks)s were merged into task #%(id)s.") % {
            "tasks": ", ".join(f"#{pk}" for pk in merged), "id": kept.pk}


BULK_FORMS = {form.action: form for form in (BulkAssignForm, BulkReportForm, BulkMergeForm)}


class SameDayFilterForm(forms.Form):
    """The same-day list's period (registration dates), target and status; defaults to the last 30 days."""

    DEFAULT_DAYS = 30

    first = _date(_("Registered from"))
    last = _date(_("Registered until"))
    target = forms.ChoiceField(
        label=_("Target"), required=False, choices=_any(_("Any target"), [(key, label) for key, _f, label in TARGETS])
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_any(_("Late or still waiting"), [("waiting", _("Still waiting")), ("late", _("Done late"))]),
    )

    def __init__(self, data, *, today: dt.date, **kwargs):
        self.today = today
        values = {"first": (today - dt.timedelta(days=self.DEFAULT_DAYS)).isoformat(), "last": today.isoformat()}
        values.update({key: value for key, value in data.items() if value})
        super().__init__(values, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last:
            if last < first:
                self.add_error("last", _("The end date %(last)s is before the start date %(first)s.") % {
                    "last": last, "first": first})
            elif (last - first).days + 1 > SAME_DAY_MAX_DAYS:
                self.add_error("last", _("Choose at most %(max)d days; %(first)s to %(last)s is %(days)d days.") % {
                    "max": SAME_DAY_MAX_DAYS, "first": first, "last": last, "days": (last - first).days + 1})
        return cleaned

    def period(self) -> tuple[dt.date, dt.date]:
        """The valid period, else the default one."""
        if self.is_valid():
            return self.cleaned_data["first"], self.cleaned_data["last"]
        return self.today - dt.timedelta(days=self.DEFAULT_DAYS), self.today

    def choices(self) -> dict:
        values = self.cleaned_data if self.is_valid() else {}
        return {"target": values.get("target") or None, "status": values.get("status") or None}
