"""The path one planned task takes through the lifecycle, step by step, until its final state.

Most tasks: registered → reported → reviewed → assigned → accepted → (progress) → replied
(a handler's reply approved by the head, or the head's own) → called back → closed. On the
way, some are accepted or answered late, get extensions (approved or refused), are returned
by a wrongly chosen department and re-assigned, have assisting departments, are put under
supervision when overdue, are redone after an unsatisfied callback, or are reopened in a
quarterly look-back review. Open tasks stop at their planned state.
"""

from feedback.models import CallbackResult
from tasks.models import Outcome, State

from . import content as text
from .clock import MINUTES
from .simulate import Sim, Stop

S = State
DAY = MINUTES
OUTCOMES = ((Outcome.RESOLVED, 82), (Outcome.EXPLAINED, 15), (Outcome.UNRESOLVABLE, 3))
RESULTS = ((CallbackResult.SATISFIED, 82), (CallbackResult.BASICALLY_SATISFIED, 15), (CallbackResult.UNSATISFIED, 3))
HANDLING = (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS)


class Story:
    """Walks one Sim to its plan's target state; `relaxed` (a retry) drops the slow detours."""

    def __init__(self, ctx, sim: Sim, plan, where: text.Place, relaxed: bool):
        self.ctx, self.sim, self.plan, self.where, self.relaxed = ctx, sim, plan, where, relaxed
        self.rng = ctx.rng

    def weighted(self, pairs):
        values, weights = zip(*pairs)
        return self.rng.choices(values, weights=weights)[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def between(self, end: int, lo: float, hi: float) -> int:
        """An instant a share lo..hi (scaled by the pace) of the way from now to `end`."""
        start = self.sim.w
        if end <= start + 1:
            return start + 1
        return start + max(1, int((end - start) * self.rng.uniform(lo, hi) * self.sim.pace))

    # --- the path -------------------------------------------------------------------

    def run(self):
        sim, plan, target = self.sim, self.plan, self.plan.target
        sim.register(self.ctx.registrar_for(plan.channel))
        if target == S.REGISTERED:
            return
        if target in (S.REPORTED, S.REVIEWED) or plan.episode or self.chance(0.85):
            sim.report(sim.later(5, 90) if self.chance(0.95) or self.relaxed else sim.later(DAY, DAY + 200))
            if target == S.REPORTED:
                return
            sim.review(sim.later(10, 150), self.rng.choice(text.REVIEW_NOTES))
            if target == S.REVIEWED:
                return
        if self.dispatch():
            return
        if sim.task.state == S.ASSIGNED:
            self.accept()
        if target == S.ACCEPTED:
            return self.open_tail()
        self.handle(first=True)

    def dispatch(self) -> bool:
        """Assign (maybe to a wrong department first, which returns it); True when the plan ends here."""
        sim, plan, target, ctx = self.sim, self.plan, self.plan.target, self.ctx
        lead = plan.lead or ctx.lead_for(plan.topic, plan.township)
        # Detours are planned on closed tasks only (so never on a TV problem); a retry drops them.
        detour = "" if self.relaxed else plan.detour
        returned = target in (S.RETURN_REQUESTED, S.RETURNED) or detour == "return_approved"
        refused = detour == "return_refused"
        assisting = ctx.assisting_for(plan.topic, lead, plan.township) if self.chance(0.11) and not returned else ()
        days = 10 if plan.episode else (self.rng.choice((3, 5, 10)) if self.chance(0.02) else None)
        when = sim.later(5, 120)
        if plan.hold:
            when = max(when, plan.hold + self.rng.randint(5, 60))
        if returned:
            sim.assign(when, ctx.wrong_department(lead), days=days)
        else:
            sim.assign(when, lead, assisting, days=days)
        if target == S.ASSIGNED:
            self.open_tail()
            return True
        if returned or refused:
            if self.chance(0.5):
                self.accept()
            sim.request_return(sim.later(30, 600), *self.rng.choice(text.RETURN_REASONS))
            if target == S.RETURN_REQUESTED:
                return True
            if refused:
                sim.refuse_return(sim.later(20, 400), self.rng.choice(text.RETURN_REFUSALS))
                return False
            sim.approve_return(sim.later(20, 400))
            if target == S.RETURNED:
                return True
            sim.assign(sim.later(10, 300), lead, days=days)
        return False

    def accept(self):
        sim = self.sim
        due = max(self.ctx.clock.floor(sim.task.accept_deadline), sim.w + 1)
        if self.relaxed or self.chance(0.97):
            sim.accept(min(sim.later(5, 240), due))
        else:
            sim.accept(due + self.rng.randint(30, DAY))

    def handle(self, *, first: bool):
        """From accepted or in progress to the reply, the callback and the close (or the plan's stop)."""
        sim, target, rng = self.sim, self.plan.target, self.rng
        open_plan = target != S.CLOSED
        if self.chance(0.5) or target == S.IN_PROGRESS or not first:
            sim.progress(self.between(sim.deadline_w(), 0.05, 0.4), rng.choice(text.PROGRESS_NOTES))
        detour = "" if self.relaxed or not first else self.plan.detour
        if detour in ("extension_approved", "extension_refused"):
            sim.request_extension(self.between(sim.deadline_w(), 0.1, 0.6), rng.choice(text.EXTENSION_REASONS),
                                  rng.randint(5, 10))
            if detour == "extension_approved":
                sim.approve_extension(sim.later(30, 500))
            else:
                sim.refuse_extension(sim.later(30, 500), rng.choice(text.EXTENSION_REFUSALS))
        if target == S.IN_PROGRESS:
            return self.open_tail()

        due = sim.deadline_w()
        late = first and not self.relaxed and self.chance(0.07 if not sim.task.episode else 0.02)
        if late:
            reply_w = max(due, sim.w) + rng.randint(DAY // 2, 5 * DAY)
            if self.chance(0.5) and due + DAY < reply_w:
                sim.supervise(due + rng.randint(DAY, min(3 * DAY, reply_w - due - 1)), rng.randint(1, 3),
                              rng.choice(text.SUPERVISION_NOTES))
        else:
            reply_w = self.between(due, 0.15, 0.95) if due > sim.w else sim.later(30, 300)
        for assist in sim.assists:
            if assist.replied_at is None and assist.waived_at is None:
                assist_due = min(reply_w, self.ctx.clock.floor(assist.deadline))
                if self.chance(0.03):
                    # The supervision office lets the lead answer without this part (主办/协办).
                    sim.waive_assist(self.between(assist_due, 0.3, 0.9), assist, rng.choice(text.ASSIST_WAIVERS))
                    continue
                if assist.accepted_at is None and self.chance(0.6):
                    sim.assist_accept(self.between(assist_due, 0.05, 0.2), assist)
                sim.assist_reply(self.between(assist_due, 0.2, 0.9), assist,
                                 rng.choice(text.ASSIST_REPLIES).format(place=self.where.name))
        outcome = self.weighted(OUTCOMES)
        by_head = target != S.AWAITING_APPROVAL and self.chance(0.2)
        sim.reply(reply_w, outcome, text.reply_text(rng, self.plan.topic, self.plan.phrase, self.where, outcome), by_head)
        if target == S.AWAITING_APPROVAL:
            return
        if not by_head:
            sim.approve_reply(sim.later(10, 400))
        if target == S.REPLIED:
            return
        if target == S.CLOSED and first and self.chance(0.02):
            sim.close(sim.later(DAY // 2, 2 * DAY), rng.choice(text.CLOSE_WITHOUT_CALLBACK))
            return
        result = self.weighted(RESULTS) if first and not open_plan and not self.relaxed else (
            CallbackResult.SATISFIED if self.chance(0.85) else CallbackResult.BASICALLY_SATISFIED)
        called = min(sim.later(30, DAY), max(self.ctx.clock.floor(sim.task.callback_deadline), sim.w + 1))
        if result == CallbackResult.UNSATISFIED:
            sim.callback(called, result, rng.choice(text.UNSATISFIED_NOTES))
            return self.handle(first=False)
        sim.callback(called, result)
        if target == S.CALLED_BACK:
            return
        sim.close(sim.later(5, 240))
        if detour == "look_back":
            self.look_back()

    def look_back(self):
        """The quarterly look-back review drew this task and found the problem back: it is redone."""
        sim, clock = self.sim, self.ctx.clock
        closed_month = clock.day(sim.w).replace(day=1)
        next_quarter = ((closed_month.month - 1) // 3 + 1) * 3 + 1
        if next_quarter > 12:
            return
        review_day = clock.day_index(closed_month.replace(month=next_quarter)) + self.rng.randint(5, 15)
        if review_day * DAY > sim.limit - 20 * DAY:
            return
        sim.look_back(review_day * DAY + self.rng.randint(0, 400), self.rng.choice(text.LOOK_BACK_NOTES))
        self.handle(first=False)

    def open_tail(self):
        """An open task on the department's clock: maybe an extension pending, maybe supervised when overdue."""
        sim, rng = self.sim, self.rng
        if sim.task.state not in HANDLING:
            return
        due = sim.deadline_w()
        if due > sim.w + 60 and self.chance(0.1):
            when = self.between(due, 0.1, 0.8)
            if when <= sim.limit:
                sim.request_extension(when, rng.choice(text.EXTENSION_REASONS), rng.randint(5, 10))
        for level, after in ((1, 3), (2, 10), (3, 20)):
            when = max(due, sim.w) + after * DAY + rng.randint(0, 300)
            if when > sim.limit or not self.chance(0.6 if level == 1 else 0.5):
                return
            sim.supervise(when, level, rng.choice(text.SUPERVISION_NOTES))


def live(ctx, plan, make_sim, where) -> Sim:
    """Walk a fresh Sim to the plan's state; retry faster when it would run past the year's end.

    TV problems are instead kept wherever the year's end finds them (truncated).
    """
    sim = None
    for pace in (1.0, 0.5, 0.2, 0.05, 0.01, 0.0):
        sim = make_sim(pace)
        try:
            Story(ctx, sim, plan, where, relaxed=pace < 1.0).run()
            return sim
        except Stop:
            if plan.episode is not None:
                return sim
    ctx.unfinished += 1
    return sim
