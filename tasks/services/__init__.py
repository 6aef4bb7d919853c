"""The task lifecycle's rules: one service per step of DOMAIN.md, all checked against one rule table.

Every service takes keyword-only arguments, locks the task row, re-checks the rule table
against the locked state, writes one timeline entry (TaskEvent) and returns the updated
task; a refused step raises tasks.errors.DomainError and writes nothing. `now` places the
step in time (tests, the demo generator); it defaults to timezone.now().
"""

from tasks.errors import DomainError

from .assists import assists_follow_lead_deadline, task_assist_accept, task_assist_reply, task_waive_assist
from .closing import task_close, task_record_callback, task_reopen_look_back
from .department_requests import (
    task_approve_extension,
    task_approve_return,
    task_refuse_extension,
    task_refuse_return,
    task_request_extension,
    task_request_return,
)
from .dispatch import task_arbitrate, task_assign, task_merge, task_report, task_review, task_supervise
from .handling import (
    task_accept,
    task_approve_reply,
    task_note_progress,
    task_reject_reply,
    task_reply,
)
from .rules import (
    ACTIONS,
    RETURNS_BEFORE_ARBITRATION,
    RULES,
    Scope,
    authorize,
    available_actions,
    can,
    pending_request_kinds,
    refusal,
)
from .rules import open_assists, resolved_reply_refusal

__all__ = [
    "ACTIONS",
    "DomainError",
    "RETURNS_BEFORE_ARBITRATION",
    "RULES",
    "Scope",
    "assists_follow_lead_deadline",
    "authorize",
    "available_actions",
    "can",
    "open_assists",
    "pending_request_kinds",
    "refusal",
    "resolved_reply_refusal",
    "task_accept",
    "task_approve_extension",
    "task_approve_reply",
    "task_approve_return",
    "task_arbitrate",
    "task_assign",
    "task_assist_accept",
    "task_assist_reply",
    "task_close",
    "task_merge",
    "task_note_progress",
    "task_record_callback",
    "task_refuse_extension",
    "task_refuse_return",
    "task_reject_reply",
    "task_reopen_look_back",
    "task_reply",
    "task_report",
    "task_request_extension",
    "task_request_return",
    "task_review",
    "task_supervise",
    "task_waive_assist",
]
