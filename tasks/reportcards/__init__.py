"""Report cards (成绩单): the figures of DOMAIN.md (and issue 9) for a period and a scope, traceable to their records.

    from tasks.reportcards import parse_period, parse_scope, report_card, records_for

    card = report_card(parse_scope("department:zhujian"), parse_period("2021-Q3"))
    card["closure_rate"]            # Rate(numerator=57012, denominator=61000); .rate 0.9346
    records_for("closure_rate", card.scope, card.period, part="denominator")  # the 61000 tasks

Modules: periods (what "2021-Q3" means), scopes (city / department / township),
definitions (what each figure counts; conditions: the score exclusion and return tests),
counting (live aggregate queries), rollups
(daily pre-aggregates and their refresh), figures (cards, rankings, trends,
comparisons), drilldown (figure → records), permissions (who sees which card).
"""

from .definitions import FIGURE_CODES, FIGURES
from .drilldown import DENOMINATOR, EXCLUDED, MISSED, NUMERATOR, link_params, records_for, records_for_params
from .figures import (
    AUTO,
    LIVE,
    ROLLUP,
    Card,
    Comparison,
    Rate,
    figures_by_department,
    figures_by_township,
    figures_trend,
    ranked,
    report_card,
    report_card_compared,
    units_average,
)
from .periods import Period, PeriodError, parse_period
from .permissions import reportcard_home_scope, reportcard_rankings_visible_to, reportcard_visible_to
from .rollups import MAX_STALENESS, latest_refresh, rollups_refresh
from .scopes import Scope, ScopeError, city, for_department, for_township, parse_scope, resolve_scope

__all__ = [
    "AUTO",
    "Card",
    "Comparison",
    "DENOMINATOR",
    "EXCLUDED",
    "FIGURES",
    "FIGURE_CODES",
    "LIVE",
    "MAX_STALENESS",
    "MISSED",
    "NUMERATOR",
    "Period",
    "PeriodError",
    "ROLLUP",
    "Rate",
    "Scope",
    "ScopeError",
    "city",
    "figures_by_department",
    "figures_by_township",
    "figures_trend",
    "for_department",
    "for_township",
    "latest_refresh",
    "link_params",
    "parse_period",
    "parse_scope",
    "ranked",
    "records_for",
    "records_for_params",
    "report_card",
    "report_card_compared",
    "reportcard_home_scope",
    "reportcard_rankings_visible_to",
    "reportcard_visible_to",
    "resolve_scope",
    "rollups_refresh",
    "units_average",
]
