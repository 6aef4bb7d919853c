"""django-tables2 tables of tasks, suggestions and requests: presentation only, no queries.

Every table is fed an evaluated list (the view slices and evaluates the selector's
queryset), so rendering never touches the database.
"""

import django_tables2 as tables
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from feedback.models import Suggestion, Urgency

from .models import HANDLING_STATES, Task, TaskRequest
from .urgency import urgent_first


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

    def render_title(self, record, value):
        # 紧急: marked wherever a task is listed (the lists put open urgent tasks first).
        if record.urgency == Urgency.URGENT:
            badge = '<span class="badge urgency-urgent" data-urgent="true">{}</span> {}'
            return format_html(badge, _("urgent"), value)
        return value

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

    def render_task(self, record, value):
        if record.task.urgency == Urgency.URGENT:
            badge = '<span class="badge urgency-urgent" data-urgent="true">{}</span> {}'
            return format_html(badge, _("urgent"), value)
        return value

    def render_reason(self, value):
        return Truncator(value).chars(40)


class TaskListTable(TaskTable):
    """The task list: sortable only where an index or the id order makes sorting cheap at millions of rows."""

    id = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "num nowrap"}, "th": {"class": "num"}})
    # Sorting by state needs an index that leads with it: filter by state instead.
    state = tables.Column(verbose_name=label(Task, "state"), orderable=False)
    title = tables.Column(
        verbose_name=label(Task, "title"), linkify=task_detail_url, orderable=False, attrs={"td": {"class": "title"}}
    )
    township = tables.Column(verbose_name=label(Task, "township"), attrs=NOWRAP, orderable=False)
    lead_department = tables.Column(verbose_name=_("Department"), empty_values=(), orderable=False, attrs=NOWRAP)
    channel = tables.Column(verbose_name=label(Task, "channel"), attrs=NOWRAP, orderable=False)
    # Registration order is the id order (sort by No.); created_at has no index of its own.
    created_at = tables.DateTimeColumn(
        verbose_name=label(Task, "created_at"), format="Y-m-d H:i", attrs=NOWRAP, orderable=False
    )
    deadline = tables.DateTimeColumn(verbose_name=label(Task, "deadline"), format="Y-m-d H:i", attrs=NOWRAP)
    supervision_level = tables.Column(verbose_name=label(Task, "supervision_level"), attrs=NOWRAP, orderable=False)
    days_overdue = tables.Column(
        verbose_name=_("Days overdue"),
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
    )

    class Meta(TaskTable.Meta):
        orderable = True
        order_by = "-id"
        fields = ("id", "state", "title", "township", "lead_department", "channel", "created_at", "deadline")
        exclude = ("reported_at", "replied_at")
        sequence = (
            "id", "state", "title", "township", "lead_department", "channel", "created_at", "deadline",
            "days_overdue", "supervision_level",
        )  # fmt: skip
        empty_text = _("No task matches.")

    def render_supervision_level(self, record):
        if not record.supervision_level:
            return "—"
        return format_html(
            '<span class="badge supervision-{}">{}</span>', record.supervision_level, record.get_supervision_level_display()
        )

    def order_id(self, queryset, is_descending):
        # Open urgent tasks first (tasks.urgency) whichever way the list is sorted.
        return queryset.order_by(urgent_first(), "-id" if is_descending else "id"), True

    def order_deadline(self, queryset, is_descending):
        # No deadline (not assigned yet) counts as the latest: last going up, first going
        # down, whatever the database's own NULL order is. Open urgent tasks first.
        if is_descending:
            return queryset.order_by(urgent_first(), F("deadline").desc(nulls_first=True), "-id"), True
        return queryset.order_by(urgent_first(), F("deadline").asc(nulls_last=True), "id"), True


def task_export(queryset):
    """The task list as a CSV/XLSX export (feedback.exports): no personal data, so nothing to mask."""
    from feedback.exports import Column, Export
    from feedback.models import Category, Channel

    from .models import State

    columns = [
        Column(label(Task, "id"), "id", width=8),
        Column(label(Task, "state"), "state", choices=State.choices),
        Column(label(Task, "title"), "title", width=40),
        Column(label(Task, "channel"), "channel", choices=Channel.choices),
        Column(label(Task, "category"), "category", choices=Category.choices),
        Column(label(Task, "township"), "township__name"),
        Column(label(Task, "lead_department"), "lead_department__name"),
        Column(label(Task, "created_at"), "created_at", width=17),
        Column(label(Task, "assigned_at"), "assigned_at", width=17),
        Column(label(Task, "deadline"), "deadline", width=17),
        Column(label(Task, "closed_at"), "closed_at", width=17),
        Column(label(Task, "supervision_level"), "supervision_level"),
    ]
    return Export(queryset.order_by("-id"), columns)
