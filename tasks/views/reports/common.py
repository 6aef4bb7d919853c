"""What every report page shares: the period picker, the figures' source, permissions, links and number texts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks.reportcards import (
    DENOMINATOR,
    EXCLUDED,
    FIGURE_CODES,
    FIGURES,
    LIVE,
    MISSED,
    NUMERATOR,
    ROLLUP,
    Card,
    Period,
    PeriodError,
    Rate,
    Scope,
    link_params,
    parse_period,
    reportcard_home_scope,
    reportcard_visible_to,
)
from tasks.reportcards import periods as periods_
from tasks.reportcards.rollups import fresh_refresh
from tasks.reportcards.scopes import DEPARTMENT

from . import data

# Figures where a rise is bad news, and one that is neither good nor bad.
LOWER_IS_BETTER = {"overdue", "return_rate", "returns_refused", "assist_overdue"}
NEUTRAL = {"received"}
# At most this many year links in the picker.
MAX_YEAR_LINKS = 8


# --- Source and permissions -------------------------------------------------------------


def resolve_source():
    """(ROLLUP, refresh) while the rollups are fresh, else (LIVE, None): once per page, so every section agrees."""
    refresh = fresh_refresh()
    return (ROLLUP, refresh) if refresh is not None else (LIVE, None)


def require_card(user, scope: Scope) -> None:
    """Let the user read `scope`'s card or raise: 404 for another department (as the workspace does), else 403."""
    if reportcard_visible_to(user, scope):
        return
    if reportcard_home_scope(user) is not None and scope.kind == DEPARTMENT:
        raise Http404(_("No such report card."))
    raise PermissionDenied(_("You may not read this report card."))


# --- The period picker ------------------------------------------------------------------


@dataclasses.dataclass
class PeriodChoice:
    """The period a page shows, the picker's links, and the error of a bad ?period= (then shown with status 400)."""

    period: Period
    error: str | None
    years: list[Period]
    quarters: list[Period]
    months: list[Period]
    first: dt.date | None
    last: dt.date | None

    @property
    def status(self) -> int:
        return 400 if self.error else 200


def default_period(first: dt.date | None, last: dt.date | None, today: dt.date) -> Period:
    """The current year, or the last year with data when the current year has none (the demo's 2021)."""
    if last is not None and last.year < today.year:
        return periods_.year(last.year)
    return periods_.year(today.year)


def period_choice(params) -> PeriodChoice:
    """Read ?period= (or ?first=&last= for a custom range) with the data's range for the quick links."""
    first, last = data.data_range()
    today = timezone.localdate()
    period, error = default_period(first, last, today), None
    text = (params.get("period") or "").strip()
    start, end = (params.get("first") or "").strip(), (params.get("last") or "").strip()
    if not text and (start or end):
        if start and end:
            text = f"{start}..{end}"
        else:
            error = _("Give both the first and the last day of the custom period.")
    if text:
        try:
            period = parse_period(text)
        except PeriodError as exc:
            error = str(exc)
    top = max(last.year if last else today.year, today.year)
    bottom = max(first.year if first else today.year, top - MAX_YEAR_LINKS + 1)
    year = period.first.year
    return PeriodChoice(
        period=period,
        error=error,
        years=[periods_.year(y) for y in range(bottom, top + 1)],
        quarters=[periods_.quarter(year, q) for q in range(1, 5)],
        months=[periods_.month(year, m) for m in range(1, 13)],
        first=first,
        last=last,
    )


def trend_step(period: Period) -> str:
    """Days for up to two months, months for up to three years, quarters beyond."""
    if period.days <= 62:
        return periods_.DAY
    if period.days <= 3 * 366:
        return periods_.MONTH
    return periods_.QUARTER


def step_label(part: Period, step: str, whole: Period) -> str:
    """A short axis label: the day or month number within one month or year, else the full date."""
    if step == periods_.DAY:
        same_month = (whole.first.year, whole.first.month) == (whole.last.year, whole.last.month)
        return str(part.first.day) if same_month else f"{part.first:%m-%d}"
    if step == periods_.MONTH:
        return str(part.first.month) if whole.first.year == whole.last.year else f"{part.first:%Y-%m}"
    if step == periods_.QUARTER:
        return f"{part.first.year}-Q{(part.first.month - 1) // 3 + 1}"
    return str(part.first.year)


# --- Links and numbers ------------------------------------------------------------------


def records_url(code: str, scope: Scope, period: Period | None, part: str = NUMERATOR, **extra) -> str:
    """The records page listing exactly what a figure (or one part of a rate) counts."""
    params = link_params(code, scope, period, part=part)
    params.update({key: value for key, value in extra.items() if value})
    return _records_path(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()) + "?" + urlencode(params)


@functools.lru_cache(maxsize=8)
def _records_path(urlconf, prefix) -> str:
    # A ranking links each of nine figures of every unit: reverse() once, not 600 times.
    return reverse("reports:records", urlconf=urlconf)


def count_text(value) -> str:
    """1,234 (an average: 12.3); an em dash for nothing."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return number_format(value, decimal_pos=1, force_grouping=True)
    return number_format(int(value), force_grouping=True)


def percent_text(rate: Rate) -> str:
    """93.5%; an em dash when nothing was counted."""
    if rate.percent is None:
        return "—"
    return number_format(rate.percent, decimal_pos=1, force_grouping=True) + "%"


def value_text(value) -> str:
    return percent_text(value) if isinstance(value, Rate) else count_text(value)


def sort_value(value):
    """The number a figure is ranked and charted by (a rate's percentage), or None."""
    return value.percent if isinstance(value, Rate) else value


def change_of(code: str, now, before) -> dict | None:
    """The change from the previous period: arrow, text, and whether it is good news."""
    if isinstance(now, Rate):
        if now.percent is None or before.percent is None:
            return None
        delta = now.percent - before.percent
        text = _("%(points)s pp") % {"points": number_format(abs(delta), decimal_pos=1)}
    else:
        if now is None or before is None:
            return None
        delta = now - before
        text = count_text(abs(delta))
    if abs(delta) < 0.05:
        return {"direction": "same", "arrow": "＝", "text": _("no change"), "tone": "neutral", "delta": 0}
    up = delta > 0
    if code in NEUTRAL:
        tone = "neutral"
    else:
        tone = "better" if up != (code in LOWER_IS_BETTER) else "worse"
    return {"direction": "up" if up else "down", "arrow": "▲" if up else "▼", "text": text, "tone": tone, "delta": delta}


def figure_rows(card: Card, *, previous: Card | None = None, average: Card | None = None) -> list[dict]:
    """The figures, each with its text, its records' links, its "核减 N" when score exclusions took
    records out, and optionally its comparisons."""
    rows = []
    for code in FIGURE_CODES:
        figure, value = FIGURES[code], card[code]
        row = {
            "code": code,
            "label": capfirst(figure.label),
            "kind": figure.kind,
            "text": value_text(value),
            "href": records_url(code, card.scope, card.period),
            "value": value if not isinstance(value, Rate) else None,
            "is_rate": isinstance(value, Rate),
        }
        if isinstance(value, Rate):
            row.update(
                numerator=value.numerator,
                denominator=value.denominator,
                numerator_text=count_text(value.numerator),
                denominator_text=count_text(value.denominator),
                denominator_href=records_url(code, card.scope, card.period, DENOMINATOR),
                missed_href=records_url(code, card.scope, card.period, MISSED),
            )
        excluded = card.excluded(code)
        if excluded:
            # 核减 N: the records approved score exclusions took out of this figure.
            row.update(
                excluded=excluded,
                excluded_text=count_text(excluded),
                excluded_href=records_url(code, card.scope, card.period, EXCLUDED),
            )
        if previous is not None:
            before = previous[code]
            row["previous_text"] = value_text(before)
            row["previous_href"] = records_url(code, previous.scope, previous.period) if before is not None else None
            row["change"] = change_of(code, value, before)
        if average is not None:
            row["average_text"] = value_text(average[code])
        rows.append(row)
    return rows


def as_of_text(card: Card) -> str:
    return timezone.localtime(card.as_of).strftime("%Y-%m-%d %H:%M")


SOURCE_LABELS = {
    ROLLUP: gettext_lazy("pre-aggregated figures"),
    LIVE: gettext_lazy("counted live"),
}
