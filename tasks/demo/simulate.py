"""One task's life, replayed in memory: the same fields and timeline rows as tasks.services writes.

Each method mirrors one service (task_report, task_assign, task_reply …): it moves the
task to the state the service would, sets the same fields, and records the timeline entry
with the same action, from/to states, note and details. Nothing touches the database here;
tasks.demo.writer bulk-inserts the results. Keep this in step with tasks/services/.

Times are instants of tasks.demo.clock (office minutes on working days). A step that would
fall after `limit` (the end of 2021) raises Stop: the planner then retries faster, or, for a
task that may end anywhere (a TV problem), keeps the state reached so far.
"""

import random
import zoneinfo

from django.conf import settings

from feedback.models import CallbackResult
from tasks import calendar, clocks
from tasks.models import Action, State, TaskRequest

from .clock import MINUTES, Clock, Deadlines
from .rows import AssistRow, CallbackRow, RequestRow

Kind, Status = TaskRequest.Kind, TaskRequest.Status
DAY = MINUTES
_LOCAL = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def iso(value):
    """tasks.services._base.iso (local time, ISO 8601) without its per-call time-zone lookup."""
    return value.astimezone(_LOCAL).isoformat() if value is not None else None


class Stop(Exception):
    """The next step would happen after the end of the generated year."""


class Sim:
    """A task being walked through the lifecycle; `events` are (w, action, actor, from, to, note, data)."""

    def __init__(self, *, clock: Clock, dl: Deadlines, rng: random.Random, users: dict, task, suggestion,
                 reg_w: int, limit: int, pace: float = 1.0):
        self.clock, self.dl, self.rng, self.users = clock, dl, rng, users
        self.task, self.suggestion = task, suggestion
        self.limit, self.pace = limit, pace
        self.supervisor, self.leader = users["supervisor"], users["leader"]
        self.w = reg_w
        self.events: list[tuple] = []
        self.requests: list[RequestRow] = []
        self.callbacks: list[CallbackRow] = []
        self.assists: list[AssistRow] = []
        self.pending: dict[str, RequestRow] = {}

    # --- time -----------------------------------------------------------------------

    def later(self, lo: int, hi: int) -> int:
        """An instant lo..hi office minutes (scaled by the pace) after the last step."""
        return self.w + max(1, int(self.rng.randint(lo, hi) * self.pace))

    def move(self, w: int):
        """Go to instant `w` (never back in time); the aware datetime of it."""
        w = max(w, self.w)
        if w > self.limit:
            raise Stop
        self.w = w
        return self.clock.at(w)

    def deadline_w(self) -> int:
        return self.clock.floor(self.task.deadline)

    # --- timeline -------------------------------------------------------------------

    def record(self, action, actor, from_state, note="", data=None):
        self.events.append((self.w, action, actor, from_state, self.task.state, note, data or {}))

    def handler(self, department=None):
        return self.users[f"handler-{(department or self.task.lead_department).code}"]

    def head(self):
        return self.users[f"head-{self.task.lead_department.code}"]

    # --- intake and dispatch (feedback.services, tasks/services/dispatch.py) ----------

    def register(self, registrar):
        self.task.state = State.REGISTERED
        self.record(Action.REGISTER, registrar, "", data={"suggestion": self.suggestion,
                                                           "tracking_number": self.suggestion.tracking_number})

    def report(self, w):
        self.task.reported_at = self.move(w)
        self.task.state = State.REPORTED
        self.record(Action.REPORT, self.supervisor, State.REGISTERED)

    def review(self, w, note):
        self.task.reviewed_at = self.move(w)
        self.task.state, self.task.review_note = State.REVIEWED, note
        self.record(Action.REVIEW, self.leader, State.REPORTED, note)

    def assign(self, w, lead, assisting=(), days=None, note=""):
        now = self.move(w)
        task = self.task
        stages = self.dl.stages(task.category, task.urgency, task.channel, self.w)
        custom = self.dl.in_working_days(self.w, days) if days else None
        handle = custom or stages.handle
        from_state = task.state
        task.state, task.lead_department, task.assigned_at, task.accepted_at = State.ASSIGNED, lead, now, None
        task.deadline = handle
        task.accept_deadline = min(stages.accept, handle)
        task.deadline_rule = None if custom else stages.rule
        task.clock_paused_at, task.paused_seconds = None, 0
        sub = self.dl.assist(handle, self.w)
        self.assists = [AssistRow(task=task, department=d, deadline=sub) for d in assisting]
        self.record(Action.ASSIGN, self.supervisor, from_state, note, {
            "lead_department": lead.pk,
            "assisting_departments": [d.pk for d in assisting],
            "deadline": iso(handle),
            "accept_deadline": iso(task.accept_deadline),
            "assist_deadline": iso(sub) if assisting else None,
            "deadline_rule": stages.rule.pk if task.deadline_rule else None,
            "custom_deadline": custom is not None,
            "custom_assist_deadline": False,
            "deadline_limits": None if custom else stages.record(),
        })

    def supervise(self, w, level, note):
        self.move(w)
        previous = self.task.supervision_level
        self.task.supervision_level = level
        self.record(Action.SUPERVISE, self.supervisor, self.task.state, note,
                    {"level": level, "previous_level": previous})

    def merge_into(self, w, target_sim, note):
        """task_merge with this task as the only source: its suggestion moves to the target."""
        self.move(w)
        from_state = self.task.state
        self.task.state, self.task.merged_into = State.MERGED, target_sim.task
        self.suggestion.task = target_sim.task
        self.record(Action.MERGE, self.supervisor, from_state, note,
                    {"merged_into": target_sim.task, "suggestions": [self.suggestion]})
        target_sim.insert_merge_event(self.w, self.supervisor, note, self.task, self.suggestion)

    def insert_merge_event(self, w, actor, note, source_task, suggestion):
        """The target's own MERGE entry, placed in its timeline at `w` (before its assignment)."""
        state = State.REGISTERED
        position = 0
        for position, event in enumerate(self.events):  # noqa: B007
            if event[0] > w:
                break
            state = event[4]
        else:
            position = len(self.events)
        data = {"merged": [source_task], "suggestions": [suggestion]}
        self.events.insert(position, (w, Action.MERGE, actor, state, state, note, data))

    # --- the department's work (tasks/services/handling.py) ---------------------------

    def accept(self, w):
        self.task.accepted_at = self.move(w)
        self.task.state = State.ACCEPTED
        self.record(Action.ACCEPT, self.handler(), State.ASSIGNED)

    def progress(self, w, note):
        self.move(w)
        from_state = self.task.state
        self.task.state = State.IN_PROGRESS
        self.record(Action.PROGRESS, self.handler(), from_state, note)

    # --- assisting parts (tasks/services/assists.py) ------------------------------------

    def assist_accept(self, w, assist):
        now = self.move(w)
        handler = self.handler(assist.department)
        assist.accepted_at, assist.accepted_by = now, handler
        self.record(Action.ASSIST_ACCEPT, handler, self.task.state, "",
                    {"department": assist.department.pk, "assist_deadline": iso(assist.deadline)})

    def assist_reply(self, w, assist, reply):
        now = self.move(w)
        handler = self.handler(assist.department)
        implicit = assist.accepted_at is None
        if implicit:
            # The reply accepts the part as well.
            assist.accepted_at, assist.accepted_by = now, handler
        assist.reply, assist.replied_at = reply, now
        self.record(Action.ASSIST_REPLY, handler, self.task.state, reply, {
            "department": assist.department.pk, "accepted_with_reply": implicit,
            "assist_deadline": iso(assist.deadline), "on_time": now <= assist.deadline,
        })

    def waive_assist(self, w, assist, reason):
        now = self.move(w)
        assist.waived_at, assist.waived_by, assist.waive_reason = now, self.supervisor, reason
        self.record(Action.WAIVE_ASSIST, self.supervisor, self.task.state, reason,
                    {"department": assist.department.pk, "assist_deadline": iso(assist.deadline)})

    def _assists_follow(self) -> dict:
        """tasks.services.assists.assists_follow_lead_deadline on the rows."""
        default = self.dl.assist(self.task.deadline, self.w)
        moved = {}
        for assist in self.assists:
            if assist.replied_at is None and assist.waived_at is None:
                new = min(max(assist.deadline, default), self.task.deadline)
                if new != assist.deadline:
                    assist.deadline = new
                    moved[str(assist.department.pk)] = iso(new)
        return moved

    def _mark_replied(self, now) -> dict:
        task = self.task
        task.state, task.replied_at = State.REPLIED, now
        task.callback_deadline = self.dl.callback(task.category, task.urgency, task.channel, self.w)
        # The generator never leaves an extension pending at a reply, so none lapses.
        assert Kind.EXTENSION not in self.pending
        return {"callback_deadline": iso(task.callback_deadline), "lapsed_extension_request": None}

    def reply(self, w, outcome, text, by_head):
        now = self.move(w)
        task = self.task
        from_state = task.state
        task.outcome, task.reply = outcome, text
        data = {"outcome": outcome}
        if by_head:
            data.update(self._mark_replied(now))
            actor = self.head()
        else:
            task.state = State.AWAITING_APPROVAL
            actor = self.handler()
        self.record(Action.REPLY, actor, from_state, text, data)

    def approve_reply(self, w):
        now = self.move(w)
        data = self._mark_replied(now)
        self.record(Action.APPROVE_REPLY, self.head(), State.AWAITING_APPROVAL, "", data)

    # --- after the reply (tasks/services/closing.py) ----------------------------------

    def callback(self, w, result, note=""):
        now = self.move(w)
        task = self.task
        callback = CallbackRow(task=task, suggestion=self.suggestion, result=result, note=note, called_at=now,
                            called_by=self.supervisor)
        self.callbacks.append(callback)
        unsatisfied = result == CallbackResult.UNSATISFIED
        if not unsatisfied:
            task.state = State.CALLED_BACK
        self.record(Action.CALLBACK, self.supervisor, State.REPLIED, note, {"result": result, "callback": callback})
        if unsatisfied:
            data = self._reopen(now)
            task.redo_count += 1
            data["redo_count"] = task.redo_count
            self.record(Action.REDO, self.supervisor, State.REPLIED, note, data)

    def _reopen(self, now) -> dict:
        task = self.task
        data = {"previous_deadline": iso(task.deadline), "previous_replied_at": iso(task.replied_at),
                "previous_closed_at": iso(task.closed_at)}
        task.state = State.IN_PROGRESS
        task.deadline = self.dl.stages(task.category, task.urgency, task.channel, self.w).handle
        task.replied_at = task.callback_deadline = task.closed_at = None
        data["deadline"] = iso(task.deadline)
        data["assist_deadlines"] = self._assists_follow()
        return data

    def close(self, w, note=""):
        self.task.closed_at = self.move(w)
        from_state = self.task.state
        self.task.state = State.CLOSED
        self.record(Action.CLOSE, self.supervisor, from_state, note)

    def look_back(self, w, note):
        now = self.move(w)
        data = self._reopen(now)
        self.record(Action.LOOK_BACK, self.supervisor, State.CLOSED, note, data)

    # --- returns and extensions (tasks/services/department_requests.py) ---------------

    def request_return(self, w, reason_code, reason):
        now = self.move(w)
        task = self.task
        from_state = task.state
        request = RequestRow(task=task, kind=Kind.RETURN, status=Status.PENDING, department=task.lead_department,
                              reason=reason, reason_code=reason_code, previous_state=from_state,
                              requested_by=self.handler(), requested_at=now)
        self.requests.append(request)
        self.pending[Kind.RETURN] = request
        task.state = State.RETURN_REQUESTED
        task.clock_paused_at = now
        self.record(Action.REQUEST_RETURN, self.handler(), from_state, reason,
                    {"request": request, "reason_code": reason_code, "deadline": iso(task.deadline)})

    def _decide(self, kind, status, now, note, granted=None) -> RequestRow:
        request = self.pending.pop(kind)
        request.status, request.decided_by, request.decided_at = status, self.supervisor, now
        request.decision_note, request.granted_deadline = note, granted
        return request

    def approve_return(self, w):
        now = self.move(w)
        task = self.task
        request = self._decide(Kind.RETURN, Status.APPROVED, now, "")
        data = {
            "request": request,
            "lead_department": task.lead_department.pk,
            "assisting_departments": [a.department.pk for a in self.assists],
            "assist_replies": {str(a.department.pk): a.reply for a in self.assists if a.reply},
            "deadline": iso(task.deadline),
            "accept_deadline": iso(task.accept_deadline),
            "accepted_at": iso(task.accepted_at),
            "lapsed_extension_request": None,
        }
        assert Kind.EXTENSION not in self.pending
        self.assists = []
        task.state = State.RETURNED
        task.return_count += 1
        data["return_count"] = task.return_count
        data["paused_seconds"] = clocks.pause_seconds(task.clock_paused_at or now, now)
        task.lead_department = task.deadline = task.accept_deadline = task.accepted_at = None
        task.clock_paused_at = None
        self.record(Action.APPROVE_RETURN, self.supervisor, State.RETURN_REQUESTED, "", data)

    def refuse_return(self, w, note):
        now = self.move(w)
        task = self.task
        request = self._decide(Kind.RETURN, Status.REFUSED, now, note)
        paused_at = task.clock_paused_at or request.requested_at
        previous, previous_accept = task.deadline, task.accept_deadline
        task.deadline = clocks.resumed_deadline(task.deadline, paused_at=paused_at, resumed_at=now)
        if task.accepted_at is None:
            task.accept_deadline = clocks.resumed_deadline(task.accept_deadline, paused_at=paused_at, resumed_at=now)
        paused = clocks.pause_seconds(paused_at, now)
        task.state = request.previous_state or State.ACCEPTED
        task.clock_paused_at = None
        task.paused_seconds += paused
        moved = {}
        for assist in self.assists:
            if assist.replied_at is None and assist.waived_at is None and assist.deadline is not None:
                resumed = clocks.resumed_deadline(assist.deadline, paused_at=paused_at, resumed_at=now)
                if resumed != assist.deadline:
                    assist.deadline = resumed
                    moved[str(assist.department.pk)] = iso(resumed)
        self.record(Action.REFUSE_RETURN, self.supervisor, State.RETURN_REQUESTED, note, {
            "request": request, "paused_at": iso(paused_at), "paused_seconds": paused,
            "previous_deadline": iso(previous), "deadline": iso(task.deadline),
            "previous_accept_deadline": iso(previous_accept), "accept_deadline": iso(task.accept_deadline),
            "assist_deadlines": moved,
        })

    def request_extension(self, w, reason, extra_days):
        now = self.move(w)
        task = self.task
        day = min(self.deadline_w() // DAY + extra_days, len(self.clock.days) - 1)
        requested = calendar.end_of_day(self.clock.days[day])
        request = RequestRow(task=task, kind=Kind.EXTENSION, status=Status.PENDING, department=task.lead_department,
                              reason=reason, requested_deadline=requested, requested_by=self.handler(),
                              requested_at=now)
        self.requests.append(request)
        self.pending[Kind.EXTENSION] = request
        self.record(Action.REQUEST_EXTENSION, self.handler(), task.state, reason,
                    {"request": request, "requested_deadline": iso(requested), "deadline": iso(task.deadline)})

    def approve_extension(self, w):
        now = self.move(w)
        task = self.task
        granted = self.pending[Kind.EXTENSION].requested_deadline
        request = self._decide(Kind.EXTENSION, Status.APPROVED, now, "", granted)
        previous = task.deadline
        task.deadline = granted
        task.extension_count += 1
        moved = self._assists_follow()
        self.record(Action.APPROVE_EXTENSION, self.supervisor, task.state, "", {
            "request": request, "previous_deadline": iso(previous), "deadline": iso(granted),
            "requested_deadline": iso(request.requested_deadline), "assist_deadlines": moved,
        })

    def refuse_extension(self, w, note):
        now = self.move(w)
        request = self._decide(Kind.EXTENSION, Status.REFUSED, now, note)
        self.record(Action.REFUSE_EXTENSION, self.supervisor, self.task.state, note, {"request": request})
