"""Practical-task projects (实事项目) and TV accountability episodes (电视问政): services and selectors.

    from tasks import projects

    projects.project_record_progress(actor=head, project=p, recorded_on=today,
                                     values={indicator: "60"}, evidence=[upload])
    projects.project_status(p, today)                   # "on_track" / "behind" / "done"
    projects.project_totals(today=today, year=2021)     # ProjectTotals(projects=7, done=7, …)
    projects.episode_raise_problem(actor=supervisor, episode=e, department=d, township=t, content="…")
    projects.episode_totals(first=…, last=…)            # EpisodeTotals(episodes=7, …)

Modules: status (on track / behind / done, in Python and in the database), files
(evidence and mechanism documents: type by content, size limit, storage), services
(progress updates), episodes (episodes, problems raised as tasks, mechanisms,
accountability suggestions), selectors (reads scoped to the user, totals). The reminder
for projects without an update for 30 days is tasks.reminders.stale_projects.
"""

from .episodes import (
    accountability_suggest,
    accountability_suggestion_decide,
    episode_create,
    episode_raise_problem,
    mechanism_add,
)
from .files import DEFAULT_MAX_BYTES, MAX_FILES, max_bytes
from .selectors import (
    EpisodeTotals,
    ProjectTotals,
    episode_accountability,
    episode_for,
    episode_list,
    episode_mechanisms,
    episode_problem_counts,
    episode_problems,
    episode_totals,
    episodes_visible_to,
    evidence_for,
    mechanism_for,
    project_for,
    project_list,
    project_totals,
    project_updates,
    project_years,
    projects_visible_to,
)
from .services import project_record_progress
from .status import ProjectStatus, project_percent, project_status, with_status

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EpisodeTotals",
    "MAX_FILES",
    "ProjectStatus",
    "ProjectTotals",
    "accountability_suggest",
    "accountability_suggestion_decide",
    "episode_accountability",
    "episode_create",
    "episode_for",
    "episode_list",
    "episode_mechanisms",
    "episode_problem_counts",
    "episode_problems",
    "episode_raise_problem",
    "episode_totals",
    "episodes_visible_to",
    "evidence_for",
    "max_bytes",
    "mechanism_add",
    "mechanism_for",
    "project_for",
    "project_list",
    "project_percent",
    "project_record_progress",
    "project_status",
    "project_totals",
    "project_updates",
    "project_years",
    "projects_visible_to",
    "with_status",
]
