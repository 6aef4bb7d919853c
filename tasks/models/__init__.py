from .rollups import *  # noqa: F401,F403  (report card rollups: owned by the report card engine)
from .reminders import *  # noqa: F401,F403  (reminders: owned by the reminder engine)
from .exclusions import ScoreExclusion
from .calendar import CalendarDay, DeadlineRule, LimitUnit
from .projects import Indicator, Mechanism, Project, TvEpisode
from .replies import LeaderInstruction, ReplyTemplate
from .task import (
    FINISHED_STATES,
    HANDLING_STATES,
    UNASSIGNED_STATES,
    Action,
    Outcome,
    State,
    SupervisionLevel,
    Task,
    TaskAssist,
    TaskEvent,
    TaskRequest,
)

__all__ = [
    "Action",
    "CalendarDay",
    "DeadlineRule",
    "FINISHED_STATES",
    "HANDLING_STATES",
    "Indicator",
    "LeaderInstruction",
    "LimitUnit",
    "Mechanism",
    "Outcome",
    "Project",
    "ReplyTemplate",
    "ScoreExclusion",
    "State",
    "SupervisionLevel",
    "Task",
    "TaskAssist",
    "TaskEvent",
    "TaskRequest",
    "TvEpisode",
    "UNASSIGNED_STATES",
]
