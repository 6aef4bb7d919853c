"""退单 on the pages: reason codes, paused clocks and arbitration on the timeline and in the supervisor's queue.

The rules themselves (reason codes required, the pause, arbitration after two approved
returns) live in tasks.services (department_requests, dispatch, rules); this module only
says what they recorded, from the timeline entries' details and the request rows.
"""

import datetime as dt

import django_tables2 as tables

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from .clocks import format_duration
from .models import Action, TaskRequest
from .services.rules import RETURNS_BEFORE_ARBITRATION
from .tables import TaskRequestTable, label

ReturnReason = TaskRequest.ReturnReason


def reason_label(code: str) -> str:
    """The readable label of a return's reason code ("" for none, the code itself if unknown)."""
    if not code:
        return ""
    return str(ReturnReason(code).label) if code in ReturnReason.values else code


def _when(value: str) -> str:
    return date_format(timezone.localtime(dt.datetime.fromisoformat(value)), "Y-m-d H:i")


def timeline_details(event, names: dict) -> list[str]:
    """Details of a return request, its decision or an arbitration, for the detail page's timeline."""
    data, details = event.data or {}, []
    if event.action == Action.REQUEST_RETURN:
        if data.get("reason_code"):
            details.append(_("reason: %(reason)s") % {"reason": reason_label(data["reason_code"])})
        details.append(_("handling clock stopped"))
    elif event.action == Action.REFUSE_RETURN and "paused_seconds" in data:
        duration = format_duration(dt.timedelta(seconds=data["paused_seconds"]))
        details.append(_("clock resumed after %(duration)s") % {"duration": duration})
        if data.get("deadline") and data.get("deadline") != data.get("previous_deadline"):
            details.append(_("new deadline: %(deadline)s") % {"deadline": _when(data["deadline"])})
    elif event.action == Action.APPROVE_RETURN and data.get("return_count"):
        details.append(_("returns: %(count)d") % {"count": data["return_count"]})
        if data["return_count"] >= RETURNS_BEFORE_ARBITRATION:
            details.append(_("goes to arbitration"))
    elif event.action == Action.ARBITRATE and data.get("lead_department"):
        department = names.get(data["lead_department"], "?")
        details.append(_("lead department by arbitration: %(department)s") % {"department": department})
        if data.get("deadline"):
            details.append(_("deadline: %(deadline)s") % {"deadline": _when(data["deadline"])})
    return details


class RequestQueueTable(TaskRequestTable):
    """The supervisor's queue of pending requests, with a return's reason code before its words."""

    # empty_values=(): a return may carry a code and no words, and must still show its code.
    reason = tables.Column(verbose_name=label(TaskRequest, "reason"), empty_values=())

    class Meta(TaskRequestTable.Meta):  # django-tables2 does not inherit Meta by itself
        pass

    def render_reason(self, record, value):
        text = Truncator(value).chars(40) if value else ""
        if not record.reason_code:
            return text
        return format_html(
            '<span class="badge reason-{}" data-reason-code="{}">{}</span> {}',
            record.reason_code, record.reason_code, reason_label(record.reason_code), text,
        )
