"""Demo data: Dingzhou's organisation, the article's projects and TV episodes, and a generated 2021.

`load_demo()` is what `python manage.py load_demo` runs. It is idempotent: the organisation,
accounts, projects and episodes are got-or-created on their natural keys, and the generated
year is written only when no suggestion carries its marker (year.MARKER) yet. The same seed
gives the same data.
"""

import time

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Count

from tasks import deadlines
from tasks.models import Task

from .org import DEMO_PASSWORD, ensure_accounts, ensure_organisation
from .projects import ensure_episodes, ensure_projects
from .year import MARKER, Year, year_exists

DEFAULT_SEED = 20211025
DEFAULT_SUGGESTIONS = 61000

__all__ = ["DEFAULT_SEED", "DEFAULT_SUGGESTIONS", "DEMO_PASSWORD", "MARKER", "load_demo", "table_counts"]

# The tables load_demo writes, for the summary and the idempotency checks.
TABLES = (
    "org.Township", "org.Village", "org.Department", "org.User", "tasks.DeadlineRule", "tasks.Project",
    "tasks.Indicator", "tasks.TvEpisode", "tasks.Mechanism", "feedback.Suggestion", "feedback.Callback",
    "tasks.Task", "tasks.TaskEvent", "tasks.TaskRequest", "tasks.TaskAssist",
)


def table_counts() -> dict[str, int]:
    """Rows per table that load_demo writes."""
    return {label: apps.get_model(label).objects.count() for label in TABLES}


def load_demo(*, seed: int = DEFAULT_SEED, suggestions: int = DEFAULT_SUGGESTIONS, log=print) -> dict:
    """Create what is missing of the demo; returns {"created_year": bool, "seconds": float, …}."""
    started = time.monotonic()
    deadlines.ensure_default_rules()
    with transaction.atomic():
        org = ensure_organisation()
        users = ensure_accounts(org["departments"])
        ensure_projects(org["departments"])
        episodes = ensure_episodes(org["departments"])
    log(f"organisation, accounts, projects and episodes ready ({time.monotonic() - started:.1f}s)")

    result = {"created_year": False, "unfinished": 0}
    if year_exists():
        log(f"the generated 2021 is already there (suggestions numbered {MARKER}…): left as it is")
    else:
        figures = Year(seed=seed, total=suggestions, users=users, departments=org["departments"],
                       episodes=episodes, log=log).run()
        result.update(created_year=True, **figures)
    if connection.vendor == "postgresql" and result["created_year"]:
        # Fresh statistics, so the first pages after loading get good plans.
        with connection.cursor() as cursor:
            for label in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(apps.get_model(label)._meta.db_table)}")
    result["seconds"] = time.monotonic() - started
    return result


def state_counts() -> dict[str, int]:
    """Tasks per lifecycle state, computed in the database."""
    return dict(Task.objects.values_list("state").annotate(n=Count("id")).order_by("state"))
