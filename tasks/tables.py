"""django-tables2 tables of tasks, suggestions and requests: presentation only, no queries.

Every table is fed an evaluated list (the view slices and evaluates the selector's
queryset), so rendering never touches the database.
"""

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from feedback.models import Suggestion

from .models import HANDLING_STATES, Task, TaskRequest


# Dates, names and short labels read badly when wrapped in a narrow column.
NOWRAP = {"td": {"class": "nowrap"}}


def url_if_exists(viewname: str, *args) -> str | None:
    """The URL of a page, or None while that page does not exist yet (so nothing links to a 404)."""
    try:
        return reverse(viewname, args=args)
    except NoReverseMatch:
        return None


def task_detail_url(record) -> str | None:
    """A task's detail page (tasks:detail), once it exists."""
    task = record if isinstance(record, Task) else record.task
    return url_if_exists("tasks:detail", task.pk)


def label(model, field_name: str):
    """A column heading from the model field's (translated) verbose name.

    Tables here are fed lists, which carry no model, so django-tables2 cannot find it alone.
    """
    return capfirst(model._meta.get_field(field_name).verbose_name)


def _when(model, field_name: str) -> tables.DateTimeColumn:
    """A date-time column in local time, minutes shown, never wrapped."""
    return tables.DateTimeColumn(verbose_name=label(model, field_name), format="Y-m-d H:i", attrs=NOWRAP)


def state_badge(state: str, label) -> str:
    """A coloured label for a lifecycle state; the CSS class carries the state's code name."""
    return format_html('<span class="badge state-{}">{}</span>', state, label)


class _Base(tables.Table):
    class Meta:
        attrs = {"class": "table"}
        orderable = False  # home lists are short slices; sorting a slice would mislead
        empty_text = _("Nothing here.")


class TaskTable(_Base):
    """Tasks with their state, place, department and deadline; overdue days from `now`."""

    state = tables.Column(verbose_name=label(Task, "state"))
    title = tables.Column(verbose_name=label(Task, "title"), linkify=task_detail_url)
    township = tables.Column(verbose_name=label(Task, "township"), attrs=NOWRAP)
    lead_department = tables.Column(verbose_name=_("Department"), empty_values=())
    reported_at = _when(Task, "reported_at")
    replied_at = _when(Task, "replied_at")
    deadline = _when(Task, "deadline")
    days_overdue = tables.Column(
        verbose_name=_("Days overdue"), empty_values=(), attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )

    class Meta(_Base.Meta):
        model = Task
        fields = ("state", "title", "township", "lead_department", "reported_at", "replied_at", "deadline")
        row_attrs = {"data-task-id": lambda record: record.pk}

    def __init__(self, data, *, now=None, department_id=None, **kwargs):
        self.now = now or timezone.now()
        # For a department's own desk: mark the tasks it only assists with.
        self.department_id = department_id
        super().__init__(data, **kwargs)

    def render_state(self, record):
        return state_badge(record.state, record.get_state_display())

    def render_lead_department(self, record):
        name = record.lead_department.name if record.lead_department_id else "—"
        if self.department_id is None:
            return name
        if record.lead_department_id == self.department_id:
            return format_html('{} <span class="tag">{}</span>', name, _("lead"))
        return format_html('{} <span class="tag tag-assist">{}</span>', name, _("assisting"))

    def render_days_overdue(self, record):
        if record.state not in HANDLING_STATES or record.deadline is None or record.deadline >= self.now:
            return "—"
        days = (timezone.localdate(self.now) - timezone.localdate(record.deadline)).days
        return format_html('<span class="overdue-days">{}</span>', days if days > 0 else "<1")


class SuggestionTable(_Base):
    """A registrar's suggestions: number, channel, place, content and where its task stands."""

    tracking_number = tables.Column(
        verbose_name=label(Suggestion, "tracking_number"),
        linkify=lambda record: url_if_exists("feedback:detail", record.pk),
    )
    received_at = _when(Suggestion, "received_at")
    channel = tables.Column(verbose_name=label(Suggestion, "channel"), attrs=NOWRAP)
    township = tables.Column(verbose_name=label(Suggestion, "township"), attrs=NOWRAP)
    content = tables.Column(verbose_name=label(Suggestion, "content"))
    task_state = tables.Column(verbose_name=_("Task state"), accessor="task__state")

    class Meta(_Base.Meta):
        model = Suggestion
        fields = ("tracking_number", "received_at", "channel", "township", "content")
        row_attrs = {"data-suggestion-id": lambda record: record.pk}

    def render_content(self, value):
        return Truncator(value).chars(40)

    def render_task_state(self, record):
        return state_badge(record.task.state, record.task.get_state_display())


class TaskRequestTable(_Base):
    """Pending extension and return requests with the task and the department asking."""

    kind = tables.Column(verbose_name=label(TaskRequest, "kind"))
    task = tables.Column(verbose_name=_("Task"), linkify=task_detail_url, accessor="task__title")
    department = tables.Column(verbose_name=label(TaskRequest, "department"), attrs=NOWRAP)
    requested_by = tables.Column(verbose_name=label(TaskRequest, "requested_by"), attrs=NOWRAP)
    requested_at = _when(TaskRequest, "requested_at")
    requested_deadline = _when(TaskRequest, "requested_deadline")
    reason = tables.Column(verbose_name=label(TaskRequest, "reason"))

    class Meta(_Base.Meta):
        model = TaskRequest
        fields = ("kind", "task", "department", "requested_by", "requested_at", "requested_deadline", "reason")
        row_attrs = {"data-request-id": lambda record: record.pk, "data-kind": lambda record: record.kind}

    def render_kind(self, record):
        return format_html('<span class="badge kind-{}">{}</span>', record.kind, record.get_kind_display())

    def render_reason(self, value):
        return Truncator(value).chars(40)
