"""The assisting department's table of its parts (协办): presentation only, fed evaluated rows."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import TaskAssist
from .tables import NOWRAP, state_badge, task_detail_url


class AssistPartTable(tables.Table):
    """One row per assisting part: the task, its lead, the part's sub-deadline and where the part stands."""

    task = tables.Column(verbose_name=_("Task"), linkify=task_detail_url, accessor="task__title")
    lead = tables.Column(verbose_name=_("Lead department"), accessor="task__lead_department", attrs=NOWRAP)
    state = tables.Column(verbose_name=_("Task state"), accessor="task__state", attrs=NOWRAP)
    deadline = tables.DateTimeColumn(verbose_name=_("Sub-deadline"), format="Y-m-d H:i", attrs=NOWRAP)
    part = tables.Column(verbose_name=_("Our part"), empty_values=(), attrs=NOWRAP)
    lead_deadline = tables.DateTimeColumn(
        verbose_name=_("Lead's deadline"), accessor="task__deadline", format="Y-m-d H:i", attrs=NOWRAP
    )

    class Meta:
        model = TaskAssist
        fields = ()
        sequence = ("task", "lead", "state", "deadline", "part", "lead_deadline")
        attrs = {"class": "table", "id": "assist-parts"}
        orderable = False
        empty_text = _("Your department assists with no open task.")
        row_attrs = {"data-task-id": lambda record: record.task_id, "data-assist-id": lambda record: record.pk}

    def __init__(self, data, *, now, **kwargs):
        self.now = now
        super().__init__(data, **kwargs)

    def render_task(self, record):
        return format_html('<span class="task-number">#{}</span> {}', record.task_id, record.task.title)

    def render_state(self, record):
        return state_badge(record.task.state, record.task.get_state_display())

    def render_deadline(self, record, value):
        shown = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if record.is_overdue(self.now):
            return format_html('<span class="overdue" data-overdue="true">{}</span>', shown)
        return shown

    def render_part(self, record):
        if record.waived_at is not None:
            return _("waived")
        if record.replied_at is not None:
            return _("replied")
        if record.accepted_at is not None:
            return _("accepted, reply owed")
        return format_html('<span class="tag tag-assist">{}</span>', _("to accept"))


__all__ = ["AssistPartTable"]
