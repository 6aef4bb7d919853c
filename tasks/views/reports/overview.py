"""/reports/: the city overview for leaders, supervisors and admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from org.views import campaign_headline
from tasks.reportcards import (
    FIGURES,
    city,
    figures_by_department,
    figures_by_township,
    report_card_compared,
    reportcard_rankings_visible_to,
)
from tasks.reportcards.charts import Bar, bar_chart
from tasks.reportcards.scopes import CITY
from tasks.tables import url_if_exists

from . import data
from .common import SOURCE_LABELS, as_of_text, count_text, figure_rows, period_choice, records_url, resolve_source
from .sections import overdue_section, project_rows, trend_section, unit_section

DEFAULT_RANK = "closure_rate"


def _channels_section(period, *, source) -> dict:
    """Suggestions received per channel, each linked to its suggestions."""
    counts = data.channel_counts(period, refresh=source[1])
    total = sum(n for _code, _label, n in counts)
    rows = [
        {
            "code": code,
            "label": label,
            "count": n,
            "text": count_text(n),
            "share": "—" if not total else number_format(100 * n / total, decimal_pos=1) + "%",
            "href": records_url("received", city(), period, channel=code),
        }
        for code, label, n in counts
    ]
    chart = bar_chart(
        [Bar(row["label"], row["count"], row["text"], row["href"]) for row in rows],
        title=_("Suggestions received by channel"),
        width=420,
        label_width=120,
    )
    return {"rows": rows, "chart": chart, "total": total}


def overview_context(period, *, now, source, rank: str = DEFAULT_RANK) -> dict:
    """Everything the overview shows for a period, evaluated (a fixed number of queries)."""
    comparison = report_card_compared(city(), period, now=now, source=source)
    card = comparison.current
    departments = figures_by_department(period, now=now, source=source)
    townships = figures_by_township(period, now=now, source=source)
    return {
        "card": card,
        "previous": comparison.previous,
        "headline": campaign_headline(received=card["received"], solved=card["closed"]),
        "figures": figure_rows(card, previous=comparison.previous),
        "trend": trend_section(city(), period, source=source),
        "departments": unit_section(departments, rank, period=period),
        "overdue": overdue_section(departments, period=period),
        "townships": unit_section(townships, rank, period=period),
        "channels": _channels_section(period, source=source),
        "projects": project_rows(data.projects_progress(period)),
        "tv": data.tv_totals(period),
        "as_of": as_of_text(card),
        "source_label": SOURCE_LABELS[card.source],
        "from_rollups": card.source != "live",
        "rank_choices": [(code, FIGURES[code].label) for code in FIGURES],
        "city_card_url": reverse("reports:city_card"),
        "projects_url": url_if_exists("tasks:projects"),
        "episodes_url": url_if_exists("tasks:episodes"),
        "scope_kind": CITY,
    }


@login_required
@require_GET
def overview(request):
    """The city's figures for a period: headline, trend, departments ranked, townships, channels, projects, TV."""
    if not reportcard_rankings_visible_to(request.user):
        raise PermissionDenied(_("The city overview is for leaders and the supervision office."))
    choice = period_choice(request.GET)
    rank = request.GET.get("rank") if request.GET.get("rank") in FIGURES else DEFAULT_RANK
    context = overview_context(choice.period, now=timezone.now(), source=resolve_source(), rank=rank)
    context.update(choice=choice, period=choice.period, rank=rank)
    return render(request, "reports/overview.html", context, status=choice.status)
