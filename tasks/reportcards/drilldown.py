"""Figure → records: the exact rows a figure counts, so a page links to them and a test recounts.

`records_for` builds its queryset from the same family and counter conditions that
counting.py counts, so `records_for(...).count()` equals the live figure by
construction (and the rollups' figure once they are refreshed).

Parts of a figure: a count has its records ("numerator"); a rate has its numerator (the
tasks closed on time), its denominator (all tasks closed) and the rest ("missed": closed
late), and numerator + missed == denominator. Any figure of an excludable family also has
"excluded": the records approved score exclusions (核减) took out of it (of a rate's
denominator), which no other part holds.
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

NUMERATOR, DENOMINATOR, MISSED, EXCLUDED = "numerator", "denominator", "missed", "excluded"
PARTS = (NUMERATOR, DENOMINATOR, MISSED, EXCLUDED)


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
        raise DomainError(
            _("Unknown part %(part)s; use numerator, denominator, missed or excluded.") % {"part": part}
        )
    if definition.kind == COUNT and part not in (NUMERATOR, EXCLUDED):
        raise DomainError(_("%(figure)s is a count; only its records can be listed.") % {"figure": definition.label})
    family = COUNTER_FAMILY[definition.numerator]
    if part == EXCLUDED and not family.excludable:
        raise DomainError(_("No score exclusion applies to %(figure)s.") % {"figure": definition.label})
    if family.date_field is not None and period is None:
        raise DomainError(_("Choose a period for %(figure)s.") % {"figure": definition.label})
    now = now or timezone.now()
    first, end = (period.first, period.end_date) if family.date_field is not None else (None, None)
    rows = family_queryset(family, scope=scope, first=first, end=end, now=now)
    # The working-day test needs the dates; a family without a period has no such counter.
    low, high = (period.first, period.last) if family.date_field is not None else (None, None)
    if part == EXCLUDED:
        conditions = [family.excluded(), family.own_condition(definition.base, low, high)]
    elif part == MISSED:
        numerator = family.own_condition(definition.numerator, low, high)
        conditions = [family.condition(definition.base, low, high), ~numerator if numerator is not None else None]
    else:
        counter = definition.denominator if part == DENOMINATOR else definition.numerator
        conditions = [family.condition(counter, low, high)]
    for condition in conditions:
        if condition is not None:
            rows = rows.filter(condition)
    return rows


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


__all__ = [
    "DENOMINATOR", "EXCLUDED", "MISSED", "NUMERATOR", "PARTS", "link_params", "records_for", "records_for_params",
]
