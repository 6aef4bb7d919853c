"""Tables of the records page for the figures that count return requests (退单) and assisting parts (协办)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from tasks.models import Task, TaskAssist, TaskRequest
from tasks.tables import NOWRAP, label, task_detail_url


class _RecordTable(tables.Table):
    class Meta:
        attrs = {"class": "table"}
        orderable = False
        empty_text = gettext_lazy("Nothing here.")
        row_attrs = {"data-record-id": lambda record: record.pk}


class RecordRequestTable(_RecordTable):
    """Return requests a figure counts: the task, who asked, when, why, and the decision."""

    task = tables.Column(verbose_name=gettext_lazy("Task"), linkify=task_detail_url, accessor="task__title")
    department = tables.Column(verbose_name=label(TaskRequest, "department"), attrs=NOWRAP)
    township = tables.Column(verbose_name=label(Task, "township"), accessor="task__township", attrs=NOWRAP)
    requested_at = tables.DateTimeColumn(
        verbose_name=label(TaskRequest, "requested_at"), format="Y-m-d H:i", attrs=NOWRAP
    )
    reason = tables.Column(verbose_name=label(TaskRequest, "reason"))
    status = tables.Column(verbose_name=label(TaskRequest, "status"), attrs=NOWRAP)
    decided_at = tables.DateTimeColumn(verbose_name=label(TaskRequest, "decided_at"), format="Y-m-d H:i", attrs=NOWRAP)
    decision_note = tables.Column(verbose_name=label(TaskRequest, "decision_note"), default="—")

    class Meta(_RecordTable.Meta):
        pass

    def render_reason(self, value):
        return Truncator(value).chars(40)

    def render_status(self, record):
        return record.get_status_display()

    def render_decision_note(self, value):
        return Truncator(value).chars(40)


class RecordAssistTable(_RecordTable):
    """Assisting departments' parts a figure counts: the task, the assisting department, its sub-deadline and reply."""

    task = tables.Column(verbose_name=gettext_lazy("Task"), linkify=task_detail_url, accessor="task__title")
    department = tables.Column(verbose_name=gettext_lazy("Assisting department"), attrs=NOWRAP)
    lead = tables.Column(verbose_name=label(Task, "lead_department"), accessor="task__lead_department", default="—")
    township = tables.Column(verbose_name=label(Task, "township"), accessor="task__township", attrs=NOWRAP)
    assigned_at = tables.DateTimeColumn(
        verbose_name=label(Task, "assigned_at"), accessor="task__assigned_at", format="Y-m-d H:i", attrs=NOWRAP
    )
    deadline = tables.DateTimeColumn(verbose_name=label(TaskAssist, "deadline"), format="Y-m-d H:i", attrs=NOWRAP)
    replied_at = tables.DateTimeColumn(verbose_name=label(TaskAssist, "replied_at"), format="Y-m-d H:i", attrs=NOWRAP)

    class Meta(_RecordTable.Meta):
        pass
