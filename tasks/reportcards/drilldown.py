"""Figure → records: the exact rows a figure counts, so a page links to them and a test recounts.

`records_for` builds its queryset from the same family and counter conditions that
counting.py counts, so `records_for(...).count()` equals the live figure by
construction (and the rollups' figure once they are refreshed).

Parts of a figure: a count has its records ("numerator"); a rate has its numerator (the
tasks closed on time), its denominator (all tasks closed) and the rest ("missed": closed
late), and numerator + missed == denominator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks.errors import DomainError

from .counting import family_queryset
from .definitions import COUNT, COUNTER_FAMILY, FIGURES, FigureDef
from .periods import Period, parse_period
from .scopes import Scope, parse_scope

NUMERATOR, DENOMINATOR, MISSED = "numerator", "denominator", "missed"
PARTS = (NUMERATOR, DENOMINATOR, MISSED)


def _figure(code: str) -> FigureDef:
    try:
        return FIGURES[code]
    except KeyError:
        raise DomainError(
            _("Unknown figure %(code)s; the figures are %(codes)s.") % {"code": code, "codes": ", ".join(FIGURES)}
        ) from None


def records_for(
    figure: str, scope: Scope, period: Period | None, *, part: str = NUMERATOR, now: dt.datetime | None = None
) -> QuerySet:
    """The suggestions, tasks or callbacks that `figure` counts for `scope` and `period` (`part` of a rate)."""
    definition = _figure(figure)
    if part not in PARTS:
        raise DomainError(_("Unknown part %(part)s; use numerator, denominator or missed.") % {"part": part})
    if definition.kind == COUNT and part != NUMERATOR:
        raise DomainError(_("%(figure)s is a count; only its records can be listed.") % {"figure": definition.label})
    family = COUNTER_FAMILY[definition.numerator]
    if family.date_field is not None and period is None:
        raise DomainError(_("Choose a period for %(figure)s.") % {"figure": definition.label})
    now = now or timezone.now()
    if family.date_field is None:
        return family_queryset(family, scope=scope, first=None, end=None, now=now)
    rows = family_queryset(family, scope=scope, first=period.first, end=period.end_date, now=now)
    counter = definition.denominator if part == DENOMINATOR else definition.numerator
    condition = family.condition(counter, period.first, period.last)
    if condition is None:
        return rows
    return rows.filter(~condition if part == MISSED else condition)


def link_params(figure: str, scope: Scope, period: Period | None, *, part: str = NUMERATOR) -> dict[str, str]:
    """Query parameters naming a figure's records, for a link from the figure to the workspace list."""
    params = {"figure": figure, "scope": scope.code, "part": part}
    if period is not None:
        params["period"] = period.code
    return params


def records_for_params(params: Mapping[str, str], *, now: dt.datetime | None = None):
    """Read `link_params` back: (figure code, scope, period, part, queryset); DomainError on bad values."""
    figure = _figure(params.get("figure", ""))
    scope = parse_scope(params.get("scope", "city"))
    period = parse_period(params["period"]) if params.get("period") else None
    part = params.get("part") or NUMERATOR
    return figure.code, scope, period, part, records_for(figure.code, scope, period, part=part, now=now)


__all__ = ["DENOMINATOR", "MISSED", "NUMERATOR", "PARTS", "link_params", "records_for", "records_for_params"]
