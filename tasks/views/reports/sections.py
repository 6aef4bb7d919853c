"""Sections shared by the overview and the cards: trend charts, unit rankings, project progress."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from tasks.reportcards import FIGURE_CODES, FIGURES, Card, Period, Rate, Scope, figures_trend, ranked
from tasks.reportcards.charts import Bar, Series, bar_chart, line_chart
from tasks.reportcards.periods import DAY, MONTH
from tasks.reportcards.scopes import DEPARTMENT

from .common import LOWER_IS_BETTER, count_text, percent_text, records_url, sort_value, step_label, trend_step, value_text

TREND_COUNTS = ("received", "assigned", "closed")
TREND_RATES = ("closure_rate", "on_time_rate", "satisfaction")
# The figures a unit table shows; all nine, in DOMAIN.md's order.
TABLE_CODES = FIGURE_CODES


def figure_label(code: str) -> str:
    return capfirst(FIGURES[code].label)


def trend_section(scope: Scope, period: Period, *, source) -> dict:
    """Two charts of the period by day, month or quarter: the counts, and the rates (0–100%)."""
    step = trend_step(period)
    cards = figures_trend(scope, period, step, source=source)
    labels = [step_label(card.period, step, period) for card in cards]
    counts = [Series(figure_label(code), [c[code] for c in cards]) for code in TREND_COUNTS]
    rates = [Series(figure_label(code), [c[code].percent for c in cards]) for code in TREND_RATES]
    caption = {DAY: _("by day"), MONTH: _("by month")}.get(step, _("by quarter"))
    return {
        "caption": caption,
        "steps": len(cards),
        "counts_chart": line_chart(labels, counts, title=_("Received, assigned and closed, %(step)s") % {"step": caption}),
        "rates_chart": line_chart(
            labels, rates, title=_("Rates, %(step)s") % {"step": caption}, maximum=100, unit="%"
        ),
        "rows": [
            {"label": card.period.label, **{code: value_text(card[code]) for code in TREND_COUNTS + TREND_RATES}}
            for card in cards
        ],
        "codes": [(code, figure_label(code)) for code in TREND_COUNTS + TREND_RATES],
    }


def card_url(scope: Scope) -> str:
    if scope.kind == DEPARTMENT:
        return reverse("reports:department_card", args=[scope.department.code])
    return reverse("reports:township_card", args=[scope.township.pk])


def unit_section(cards: list[Card], rank: str, *, period: Period) -> dict:
    """Units ranked by one figure: a table of all nine figures (each linked to its records) and a bar chart."""
    ordered = ranked(cards, rank, descending=rank not in LOWER_IS_BETTER)
    rows = []
    for position, card in enumerate(ordered, start=1):
        cells = []
        for code in TABLE_CODES:
            value = card[code]
            cells.append({
                "code": code,
                "text": value_text(value),
                "href": records_url(code, card.scope, period),
                "title": f"{value.numerator} / {value.denominator}" if isinstance(value, Rate) else "",
            })
        rows.append({"position": position, "unit": card.scope.unit, "url": card_url(card.scope), "cells": cells})
    is_rate = FIGURES[rank].kind != "count"
    chart = bar_chart(
        [
            Bar(str(card.scope.unit), sort_value(card[rank]), value_text(card[rank]), records_url(rank, card.scope, period))
            for card in ordered
        ],
        title=_("Ranked by %(figure)s") % {"figure": figure_label(rank)},
        maximum=100 if is_rate else None,
    )
    return {
        "rows": rows,
        "chart": chart,
        "rank": rank,
        "rank_label": figure_label(rank),
        "headers": [(code, figure_label(code)) for code in TABLE_CODES],
    }


def overdue_section(cards: list[Card], *, period: Period) -> dict:
    """Units with overdue tasks now, most first, as a bar chart linked to each unit's overdue list."""
    overdue = sorted((card for card in cards if card.overdue), key=lambda card: (-card.overdue, card.scope.unit_id))
    total = sum(card.overdue for card in cards)
    chart = bar_chart(
        [
            Bar(str(card.scope.unit), card.overdue, count_text(card.overdue), records_url("overdue", card.scope, period))
            for card in overdue
        ],
        title=_("Overdue and still open, by department"),
    )
    return {"chart": chart, "count": len(overdue), "total": total}


def decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return number_format(int(value), force_grouping=True)
    return number_format(value, decimal_pos=2, force_grouping=True)


def project_rows(projects) -> list[dict]:
    """Each project with its indicators' baseline, target, current value and progress (evaluated: no query)."""
    rows = []
    for project in projects:
        indicators = [
            {
                "name": indicator.name,
                "unit": indicator.unit,
                "baseline": decimal_text(indicator.baseline),
                "target": decimal_text(indicator.target),
                "current": decimal_text(indicator.current),
                "percent": round(indicator.progress_percent, 1),
                "percent_text": number_format(indicator.progress_percent, decimal_pos=0) + "%",
                "due_on": indicator.due_on,
            }
            for indicator in project.indicators.all()
        ]
        mean = sum(i["percent"] for i in indicators) / len(indicators) if indicators else None
        rows.append({
            "project": project,
            "indicators": indicators,
            "percent": None if mean is None else round(mean, 1),
            "percent_text": "—" if mean is None else number_format(mean, decimal_pos=0) + "%",
        })
    return rows


def rate_parts_text(rate: Rate) -> str:
    return f"{count_text(rate.numerator)} / {count_text(rate.denominator)}"


__all__ = [
    "TREND_COUNTS",
    "TREND_RATES",
    "card_url",
    "figure_label",
    "overdue_section",
    "percent_text",
    "project_rows",
    "rate_parts_text",
    "trend_section",
    "unit_section",
]
