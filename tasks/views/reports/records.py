"""/reports/records/?figure=…&scope=…&period=…&part=…: the exact records a figure counts.

The rows come from tasks.reportcards.records_for, the same conditions the figure counts,
so the rows listed across all pages number exactly the figure. Pages are walked by
keyset (?after=<id> / ?before=<id>, newest first): each page reads one page plus one row
through the primary key, never counting or skipping rows. The total shown is the figure
itself, from the same source as the card that linked here.
"""

from __future__ import annotations

import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from feedback.models import Callback, Channel, Suggestion
from tasks.errors import DomainError
from tasks.models import Task
from tasks.reportcards import (
    DENOMINATOR,
    EXCLUDED,
    FIGURES,
    MISSED,
    NUMERATOR,
    ROLLUP,
    Rate,
    records_for_params,
    report_card,
)
from tasks.reportcards.scopes import ASSIST, CALLBACK, REQUEST, SUGGESTION, parse_scope
from tasks.reportcards.definitions import COUNTER_FAMILY
from tasks.tables import NOWRAP, TaskTable, label, state_badge, task_detail_url, url_if_exists

from . import data
from .record_tables import RecordAssistTable, RecordRequestTable
from .common import SOURCE_LABELS, count_text, records_url, require_card, resolve_source
from .sections import card_url

PER_PAGE = 50

PART_LABELS = {
    NUMERATOR: gettext_lazy("counted"),
    DENOMINATOR: gettext_lazy("all considered"),
    MISSED: gettext_lazy("not counted"),
    EXCLUDED: gettext_lazy("left out by score exclusions (核减)"),
}


class RecordTaskTable(TaskTable):
    """Tasks a figure counts, with the times the figures are about."""

    id = tables.Column(verbose_name=gettext_lazy("No."), attrs={"td": {"class": "num nowrap"}})
    assigned_at = tables.DateTimeColumn(verbose_name=label(Task, "assigned_at"), format="Y-m-d H:i", attrs=NOWRAP)
    accepted_at = tables.DateTimeColumn(verbose_name=label(Task, "accepted_at"), format="Y-m-d H:i", attrs=NOWRAP)
    closed_at = tables.DateTimeColumn(verbose_name=label(Task, "closed_at"), format="Y-m-d H:i", attrs=NOWRAP)

    class Meta(TaskTable.Meta):
        sequence = ("id", "state", "title", "township", "lead_department", "assigned_at", "accepted_at", "replied_at",
                    "closed_at", "deadline", "days_overdue")  # fmt: skip
        exclude = ("reported_at",)
        row_attrs = {"data-record-id": lambda record: record.pk}


class RecordSuggestionTable(tables.Table):
    """Suggestions a figure counts: no citizen's name or phone, which these lists do not need."""

    tracking_number = tables.Column(
        verbose_name=label(Suggestion, "tracking_number"), linkify=lambda record: url_if_exists("feedback:detail", record.pk)
    )
    received_at = tables.DateTimeColumn(verbose_name=label(Suggestion, "received_at"), format="Y-m-d H:i", attrs=NOWRAP)
    registered_at = tables.DateTimeColumn(
        verbose_name=label(Suggestion, "registered_at"), format="Y-m-d H:i", attrs=NOWRAP
    )
    channel = tables.Column(verbose_name=label(Suggestion, "channel"), attrs=NOWRAP)
    township = tables.Column(verbose_name=label(Suggestion, "township"), attrs=NOWRAP)
    content = tables.Column(verbose_name=label(Suggestion, "content"))
    task = tables.Column(verbose_name=gettext_lazy("Task"), linkify=task_detail_url, accessor="task__pk")
    department = tables.Column(verbose_name=gettext_lazy("Department"), accessor="task__lead_department", default="—")
    task_state = tables.Column(verbose_name=gettext_lazy("Task state"), accessor="task__state")

    class Meta:
        attrs = {"class": "table"}
        orderable = False
        empty_text = gettext_lazy("Nothing here.")
        row_attrs = {"data-record-id": lambda record: record.pk}

    def render_content(self, value):
        return Truncator(value).chars(40)

    def render_task(self, value):
        return f"#{value}"

    def render_task_state(self, record):
        return state_badge(record.task.state, record.task.get_state_display())


class RecordCallbackTable(tables.Table):
    """Callbacks a figure counts: when, the result, and the task called back about."""

    called_at = tables.DateTimeColumn(verbose_name=label(Callback, "called_at"), format="Y-m-d H:i", attrs=NOWRAP)
    result = tables.Column(verbose_name=label(Callback, "result"), attrs=NOWRAP)
    task = tables.Column(verbose_name=gettext_lazy("Task"), linkify=task_detail_url, accessor="task__title")
    township = tables.Column(verbose_name=label(Task, "township"), accessor="task__township", attrs=NOWRAP)
    department = tables.Column(verbose_name=gettext_lazy("Department"), accessor="task__lead_department", default="—")

    class Meta:
        attrs = {"class": "table"}
        orderable = False
        empty_text = gettext_lazy("Nothing here.")
        row_attrs = {"data-record-id": lambda record: record.pk}

    def render_result(self, record):
        return record.get_result_display()


# record kind -> (related rows to load, table); tasks otherwise.
RECORDS = {
    SUGGESTION: (("township", "task", "task__lead_department"), RecordSuggestionTable),
    CALLBACK: (("task", "task__township", "task__lead_department"), RecordCallbackTable),
    REQUEST: (("task", "task__township", "department"), RecordRequestTable),
    ASSIST: (("task", "task__township", "task__lead_department", "department"), RecordAssistTable),
}
TASK_RECORDS = (("township", "lead_department"), RecordTaskTable)


def _page(request, rows):
    """One page newest first by keyset: (rows, previous cursor or None, next cursor or None)."""
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    if before.isdigit():
        found = list(rows.filter(pk__gt=int(before)).order_by("pk")[: PER_PAGE + 1])
        more_before = len(found) > PER_PAGE
        page = found[:PER_PAGE][::-1]
        return page, (page[0].pk if more_before else None), (page[-1].pk if page else None)
    if after.isdigit():
        rows = rows.filter(pk__lt=int(after))
    found = list(rows.order_by("-pk")[: PER_PAGE + 1])
    page = found[:PER_PAGE]
    newer = page[0].pk if page and after.isdigit() else None
    return page, newer, (page[-1].pk if len(found) > PER_PAGE else None)


def _figure_total(code, scope, period, part, channel, rows, source):
    """(the figure these records make up, as the linking page showed it; its as-of moment or None if live).

    A channel's count comes from the overview's channel counts; an overdue list without
    a period is counted here (overdue is "now", whatever the period).
    """
    used, refresh = source
    if channel:
        counts = {code_: n for code_, _label, n in data.channel_counts(period, refresh=refresh)}
        return counts[channel], (refresh if used == ROLLUP else None)
    if period is None:
        return rows.count(), None
    card = report_card(scope, period, source=source)
    value = card[code]
    if part == EXCLUDED:
        value = card.excluded(code)
    elif isinstance(value, Rate):
        value = {NUMERATOR: value.numerator, DENOMINATOR: value.denominator}.get(part, value.denominator - value.numerator)
    return value, (card if card.source == ROLLUP else None)


def _query(params):
    """(figure code, scope, period, part, channel, rows) from the query string; DomainError on a bad value."""
    channel = params.get("channel", "")
    if channel and (params.get("figure") != "received" or channel not in Channel.values):
        raise DomainError(
            _("Only the received figure can be narrowed to a channel, one of %(channels)s.")
            % {"channels": ", ".join(Channel.values)}
        )
    code, scope, period, part, rows = records_for_params(params)
    if channel:
        rows = rows.filter(channel=channel)
    record = COUNTER_FAMILY[FIGURES[code].numerator].record
    related, _table = RECORDS.get(record, TASK_RECORDS)
    rows = rows.select_related(*related)
    if record not in RECORDS:
        rows = rows.defer("review_note", "reply")  # long texts no list shows
    return code, scope, period, part, channel, rows


@login_required
@require_GET
def records(request):
    """The records behind one figure of one scope and period, a page at a time."""
    try:
        require_card(request.user, parse_scope(request.GET.get("scope", "city")))
        code, scope, period, part, channel, rows = _query(request.GET)
    except DomainError as exc:
        return render(request, "reports/records.html", {"error": str(exc)}, status=400)
    figure = FIGURES[code]
    total, dated = _figure_total(code, scope, period, part, channel, rows, resolve_source())
    page, newer, older = _page(request, rows)
    table_class = RECORDS.get(COUNTER_FAMILY[figure.numerator].record, TASK_RECORDS)[1]
    table = table_class(page, now=timezone.now()) if table_class is RecordTaskTable else table_class(page)
    base = records_url(code, scope, period, part, channel=channel)
    return render(request, "reports/records.html", {
        "figure_label": capfirst(figure.label), "code": code, "scope": scope, "period": period, "part": part,
        "part_label": PART_LABELS[part] if figure.denominator or part == EXCLUDED else "",
        "channel_label": Channel(channel).label if channel else "",
        "table": table, "rows_on_page": len(page), "total": total, "total_text": count_text(total),
        "as_of": timezone.localtime(dated.as_of).strftime("%Y-%m-%d %H:%M") if dated else None,
        "source_label": SOURCE_LABELS[ROLLUP],
        "newer_url": f"{base}&before={newer}" if newer else None,
        "older_url": f"{base}&after={older}" if older else None,
        "first_url": base if newer else None,
        "card_url": reverse("reports:city_card") if scope.kind == "city" else card_url(scope),
    })
