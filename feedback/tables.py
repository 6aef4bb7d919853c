"""The suggestion list's table and export: presentation only; the table is fed the page's evaluated rows.

Which citizens are shown in full is decided by the view for the whole page
(selectors.citizens_in_full) and handed over as a set, so rendering runs no query.
"""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from tasks.models import State
from tasks.tables import NOWRAP, label, state_badge, url_if_exists

from . import selectors
from .exports import Column, Export
from .models import Category, Channel, Suggestion, Urgency, mask_name, mask_phone


def _masked(text: str):
    return format_html('<span class="masked" data-masked="true">{}</span>', text) if text else "—"


class SuggestionListTable(tables.Table):
    """Suggestions newest first; sortable only by the tracking number and received time, which have indexes."""

    tracking_number = tables.Column(
        verbose_name=label(Suggestion, "tracking_number"),
        linkify=lambda record: url_if_exists("feedback:detail", record.pk),
        attrs={"td": {"class": "nowrap tracking"}},
    )
    received_at = tables.DateTimeColumn(verbose_name=label(Suggestion, "received_at"), format="Y-m-d H:i", attrs=NOWRAP)
    channel = tables.Column(verbose_name=label(Suggestion, "channel"), attrs=NOWRAP, orderable=False)
    township = tables.Column(verbose_name=label(Suggestion, "township"), attrs=NOWRAP, orderable=False)
    category = tables.Column(verbose_name=label(Suggestion, "category"), attrs=NOWRAP, orderable=False)
    citizen_name = tables.Column(verbose_name=label(Suggestion, "citizen_name"), attrs=NOWRAP, orderable=False)
    phone = tables.Column(verbose_name=label(Suggestion, "phone"), attrs=NOWRAP, orderable=False)
    content = tables.Column(verbose_name=label(Suggestion, "content"), orderable=False, attrs={"td": {"class": "title"}})
    task_state = tables.Column(verbose_name=_("Task state"), accessor="task__state", orderable=False, attrs=NOWRAP)

    class Meta:
        attrs = {"class": "table"}
        row_attrs = {"data-suggestion-id": lambda record: record.pk}
        empty_text = _("No suggestion matches.")
        sequence = (
            "tracking_number", "received_at", "channel", "township", "category", "citizen_name", "phone", "content",
            "task_state",
        )  # fmt: skip

    def __init__(self, data, *, in_full: set[int] = frozenset(), **kwargs):
        # Ids of the suggestions whose citizen the viewer sees unmasked.
        self.in_full = in_full
        # Labels translated once per page: get_FOO_display rebuilds its choice dict on every call.
        self.labels = {
            name: {code: str(text) for code, text in choices}
            for name, choices in (("channel", Channel.choices), ("category", Category.choices),
                                  ("urgency", Urgency.choices), ("state", State.choices))
        }  # fmt: skip
        super().__init__(data, **kwargs)

    def render_channel(self, value):
        return self.labels["channel"].get(value, value)

    def render_township(self, record):
        if record.village_id:
            return format_html("{} · {}", record.township.name, record.village.name)
        return record.township.name

    def render_category(self, record):
        category = self.labels["category"].get(record.category, record.category)
        if record.urgency == Urgency.URGENT:
            return format_html(
                '{} <span class="badge urgency-urgent">{}</span>', category, self.labels["urgency"][Urgency.URGENT]
            )
        return category

    def render_citizen_name(self, record, value):
        return value if record.pk in self.in_full else _masked(record.masked_name)

    def render_phone(self, record, value):
        # Masked for everyone: an unmasked number is shown on the suggestion's page, on request, and logged.
        return _masked(record.masked_phone)

    def render_content(self, value):
        return Truncator(value).chars(40)

    def render_task_state(self, value):
        return state_badge(value, self.labels["state"].get(value, value))

    def order_received_at(self, queryset, is_descending):
        # Imported rows often share a received day: the id keeps the order stable across pages.
        if is_descending:
            return queryset.order_by("-received_at", "-id"), True
        return queryset.order_by("received_at", "id"), True

    def order_tracking_number(self, queryset, is_descending):
        return queryset.order_by("-tracking_number" if is_descending else "tracking_number"), True


def suggestion_export(queryset, user, *, tally=None) -> Export:
    """The suggestion list as an export: the table's columns and more, citizens unmasked only for who may see them.

    `tally` (feedback.privacy.ExportTally) counts the unmasked phone numbers written and
    logs them once at the end.
    """

    def in_full(rows):
        shown = selectors.citizens_in_full(
            user, ((r["id"], r["task_id"], r["task__lead_department_id"], r["registered_by_id"]) for r in rows)
        )
        if tally is not None:
            tally.add(sum(1 for r in rows if r["id"] in shown and r["phone"]))
        return shown

    def citizen(row, shown):
        return row["citizen_name"] if row["id"] in shown else mask_name(row["citizen_name"])

    def phone(row, shown):
        return row["phone"] if row["id"] in shown else mask_phone(row["phone"])

    def registrar(row, shown):
        return row["registered_by__full_name"] or row["registered_by__username"] or ""

    masking = ("id", "task_id", "task__lead_department_id", "registered_by_id")
    columns = [
        Column(label(Suggestion, "tracking_number"), "tracking_number", width=22),
        Column(label(Suggestion, "external_id"), "external_id"),
        Column(label(Suggestion, "channel"), "channel", choices=Channel.choices),
        Column(label(Suggestion, "received_at"), "received_at", width=17),
        Column(label(Suggestion, "registered_at"), "registered_at", width=17),
        Column(label(Suggestion, "registered_by"), needs=("registered_by__full_name", "registered_by__username"),
               value=registrar),
        Column(label(Suggestion, "township"), "township__name"),
        Column(label(Suggestion, "village"), "village__name"),
        Column(label(Suggestion, "citizen_name"), needs=("citizen_name", *masking), value=citizen),
        Column(label(Suggestion, "phone"), needs=("phone", *masking), value=phone, width=15),
        Column(label(Suggestion, "category"), "category", choices=Category.choices),
        Column(label(Suggestion, "urgency"), "urgency", choices=Urgency.choices),
        Column(label(Suggestion, "content"), "content", width=60),
        Column(_("Task No."), "task_id"),
        Column(_("Task state"), "task__state", choices=State.choices),
        Column(_("Lead department"), "task__lead_department__name"),
    ]  # fmt: skip
    return Export(queryset, columns, prepare=in_full, finish=tally.finish if tally is not None else None)
