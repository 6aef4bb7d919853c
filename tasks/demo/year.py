"""The generated 2021: about 61,000 suggestions and their tasks in every state, bulk-inserted.

Plans are drawn, sorted by registration time (so ids grow with time), walked through the
lifecycle in memory (tasks.demo.story) and written a chunk at a time (tasks.demo.rows):
ids are allocated first, so suggestions, callbacks, requests and timeline rows can point
at their task, then every table is inserted with COPY (PostgreSQL) or executemany.

The year is there once: every generated suggestion carries an external number starting
with MARKER (DEMO2021-000001 …), and the generator does nothing when one exists.
"""

import datetime as dt
import random
import time

from django.db import connection, transaction

from feedback.models import Callback, Channel, Suggestion, content_fingerprint
from feedback.models.suggestion import content_bigrams, tracking_number
from feedback.services import task_title
from org.models import Department, Township, Village
from tasks.models import State, Task, TaskAssist, TaskEvent, TaskRequest

from . import content
from .clock import MINUTES, Clock, Deadlines
from .fastinsert import constraints_and_inverted_indexes_rebuilt_after
from .rows import AssistRow, CallbackRow, EventRow, RequestRow, SuggestionRow, Table, TaskRow
from .org import person_name
from .plans import DETOURS, Planner, state_counts
from .simulate import Sim
from .story import live

MARKER = "DEMO2021-"
YEAR_FIRST, YEAR_LAST = dt.date(2021, 1, 1), dt.date(2021, 12, 31)
CHUNK = 2000  # plans simulated and written at a time: bounds memory
_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                    "158", "159", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199")


def year_exists() -> bool:
    """True when a previous run generated the year (its first suggestion carries the marker's number 000001)."""
    # The year is written in one transaction, so its first number is there exactly when all of it is.
    # Naming every channel lets the (channel, external_id) unique index answer at any table size.
    return Suggestion.objects.filter(channel__in=list(Channel.values), external_id=f"{MARKER}{1:06d}").exists()


class Context:
    """What every task's story needs: calendar, deadlines, people, departments, the shared random source."""

    def __init__(self, *, rng: random.Random, users: dict, departments: dict):
        self.rng = rng
        self.clock = Clock(dt.date(2020, 12, 1), dt.date(2022, 12, 31))
        self.dl = Deadlines(self.clock)
        self.limit = self.clock.end_of(self.clock.day_index(YEAR_LAST + dt.timedelta(days=1)) - 1)
        self.users = users
        self.departments = departments
        self.offices = {d.township_id: d for d in departments.values() if d.township_id}
        self.handling = [d for d in departments.values() if d.kind in (Department.Kind.FUNCTIONAL,
                                                                       Department.Kind.UTILITY)]
        self.unfinished = 0

    def registrar_for(self, channel: str):
        if channel == Channel.HOTLINE:
            return self.users["registrar-hotline"]
        if channel in (Channel.SUNSHINE, Channel.PORTAL):
            return self.users["registrar-online"]
        return self.users["registrar"]

    def resolve(self, code: str, township) -> Department:
        if code == content.OFFICE or (code == content.LOCAL and township.kind != Township.Kind.STREET):
            return self.offices[township.pk]
        if code == content.LOCAL:
            return self.departments["chengguan"]
        return self.departments[code]

    def lead_for(self, topic, township) -> Department:
        codes, weights = zip(*topic.departments)
        return self.resolve(self.rng.choices(codes, weights=weights)[0], township)

    def assisting_for(self, topic, lead, township) -> list:
        candidates = []
        for code in (*topic.assist, content.OFFICE):
            department = self.resolve(code, township)
            if department != lead and department not in candidates:
                candidates.append(department)
        count = 2 if len(candidates) > 1 and self.rng.random() < 0.15 else 1
        return self.rng.sample(candidates, count) if candidates else []

    def wrong_department(self, lead) -> Department:
        while True:
            department = self.rng.choice(self.handling)
            if department != lead:
                return department


class Year:
    def __init__(self, *, seed: int, total: int, users: dict, departments: dict, episodes: list, log=None):
        self.rng = random.Random(seed)
        self.total = total
        self.ctx = Context(rng=self.rng, users=users, departments=departments)
        self.episodes = episodes
        self.log = log or (lambda message: None)
        self.sequence = 0
        self.tracking: set[str] = set()
        townships = list(Township.objects.order_by("sort_order", "id"))
        villages = {t.pk: [] for t in townships}
        for village in Village.objects.order_by("id"):
            villages.setdefault(village.township_id, []).append(village)
        self.planner = Planner(clock=self.ctx.clock, rng=self.rng, townships=townships, villages=villages,
                               year_first=YEAR_FIRST, year_last=YEAR_LAST)

    # --- plans ----------------------------------------------------------------------

    def plans(self) -> list:
        planner, rng = self.planner, self.rng
        tv, merged, open_counts = state_counts(self.total)
        closed = self.total - tv - merged - sum(open_counts.values())
        if closed < merged:
            raise ValueError(f"{self.total} suggestions are too few for every state; use at least 200.")
        plans = [planner.plan(State.CLOSED, planner.closed_day()) for _ in range(closed)]
        targets = rng.sample(plans, merged)
        self._detours(plans)
        for state, count in open_counts.items():
            plans += [planner.plan(state, planner.open_day(state)) for _ in range(count)]
        plans += self._tv_plans(tv)
        plans.sort(key=lambda plan: plan.reg_w)
        for target in targets:
            planner.duplicate(target)
        return plans

    def _detours(self, closed: list) -> None:
        """Mark exact shares of the closed plans for each detour (a look-back needs a closing before the autumn)."""
        shuffled = self.rng.sample(closed, len(closed))
        september = self.ctx.clock.day_index(dt.date(YEAR_FIRST.year, 9, 1)) * MINUTES
        for detour, share in DETOURS.items():
            count = max(1, round(len(closed) * share))
            pool = [p for p in shuffled if not p.detour and (detour != "look_back" or p.reg_w < september)]
            for plan in pool[:count]:
                plan.detour = detour

    def _tv_plans(self, count: int) -> list:
        """The problems raised on air: registered the working day after, led by a department questioned."""
        plans, per_episode = [], [count // len(self.episodes)] * len(self.episodes)
        for i in range(count - sum(per_episode)):
            per_episode[-1 - i] += 1
        clock, rng, planner = self.ctx.clock, self.rng, self.planner
        for episode, problems in zip(self.episodes, per_episode):
            departments = list(episode.departments.order_by("sort_order", "id"))
            day = clock.day_index(episode.aired_on + dt.timedelta(days=1))
            for i in range(problems):
                lead = departments[i % len(departments)]
                plan = planner.plan(State.CLOSED, day, topic=rng.choice(_topics_for(lead)), township=lead.township,
                                    channel=Channel.TV, episode=episode, lead=lead)
                plan.reg_w = day * MINUTES + rng.randint(0, 120)
                plans.append(plan)
        return plans

    # --- one task ---------------------------------------------------------------------

    def _citizen(self, channel: str) -> tuple[str, str]:
        rng = self.rng
        if channel in (Channel.HOTLINE, Channel.SUNSHINE, Channel.PORTAL) and rng.random() < 0.03:
            return "", ""
        if rng.random() < 0.1:
            phone = "0312-" + str(rng.randint(2000000, 8999999))
        else:
            phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"
        return person_name(rng), phone

    def _tracking_number(self, received_at) -> str:
        while True:
            number = tracking_number(received_at, self.rng.randbytes(8))
            if number not in self.tracking:
                self.tracking.add(number)
                return number

    def _received_at(self, plan, registered_at):
        clock, rng = self.ctx.clock, self.rng
        if plan.episode is not None:
            return dt.datetime.combine(plan.episode.aired_on, dt.time(20, 30), tzinfo=clock.tz)
        if rng.random() < 0.8:
            received = registered_at - dt.timedelta(minutes=rng.randint(3, 180))
        else:
            received = (registered_at - dt.timedelta(days=rng.randint(1, 3))).replace(
                hour=rng.randint(7, 21), minute=rng.randint(0, 59))
        return max(received, dt.datetime.combine(YEAR_FIRST, dt.time(0, 0), tzinfo=clock.tz))

    def simulate(self, plan, *, target_sim=None) -> Sim:
        ctx, rng = self.ctx, self.rng
        village = plan.village
        community = village is not None and village.kind == Village.Kind.COMMUNITY
        where = content.place(rng, plan.township.name, village.name if village else None, community)
        text = content.suggestion_content(rng, plan.topic, plan.phrase, where, plan.channel)
        registered_at = ctx.clock.at(plan.reg_w)
        received_at = self._received_at(plan, registered_at)
        name, phone = self._citizen(plan.channel)
        self.sequence += 1
        fields = dict(channel=plan.channel, category=plan.category, urgency=plan.urgency, township=plan.township)
        suggestion_fields = dict(
            fields, tracking_number=self._tracking_number(received_at), external_id=f"{MARKER}{self.sequence:06d}",
            received_at=received_at, registered_at=registered_at, registered_by=ctx.registrar_for(plan.channel),
            citizen_name=name, phone=phone, village=village, content=text, content_fingerprint=content_fingerprint(text),
            # The search index's column, as Suggestion.save() sets it (only PostgreSQL's index reads it).
            content_bigrams=content_bigrams(text) if connection.vendor == "postgresql" else None,
        )
        title = task_title(text)

        def make_sim(pace):
            task = TaskRow(title=title, state=State.REGISTERED, created_at=registered_at, episode=plan.episode, **fields)
            suggestion = SuggestionRow(task=task, **suggestion_fields)
            return Sim(clock=ctx.clock, dl=ctx.dl, rng=rng, users=ctx.users, task=task, suggestion=suggestion,
                       reg_w=plan.reg_w, limit=ctx.limit, pace=pace)

        if target_sim is not None:
            sim = make_sim(1.0)
            sim.register(ctx.registrar_for(plan.channel))
            sim.merge_into(plan.merge_w, target_sim, rng.choice(("重复诉求，合并办理。", "同一问题多人反映，合并办理。", "")))
            return sim
        return live(ctx, plan, make_sim, where)

    # --- writing ----------------------------------------------------------------------

    def write(self, sims: list) -> int:
        """Insert one chunk: ids first, so rows can point at each other, then every table."""
        tables = self.tables
        tasks = [s.task for s in sims]
        suggestions = [s.suggestion for s in sims]
        requests = [r for s in sims for r in s.requests]
        callbacks = [c for s in sims for c in s.callbacks]
        for table, rows in ((tables["task"], tasks), (tables["suggestion"], suggestions),
                            (tables["request"], requests), (tables["callback"], callbacks)):
            table.allocate(rows)
        tables["task"].write(tasks)
        tables["suggestion"].write(suggestions)
        tables["request"].write(requests)
        tables["callback"].write(callbacks)
        tables["assist"].write([a for s in sims for a in s.assists])
        at = self.ctx.clock.db_at
        events = [
            EventRow(s.task, action, actor, at(w), from_state, to_state, note, data)
            for s in sims
            for w, action, actor, from_state, to_state, note, data in s.events
        ]
        return tables["event"].write(events)

    def run(self) -> dict:
        """Generate and write the year; returns figures for the summary."""
        started = time.monotonic()
        plans = self.plans()
        self.log(f"planned {len(plans) + sum(len(p.dups) for p in plans)} suggestions "
                 f"in {time.monotonic() - started:.1f}s")
        events, simulating, writing = 0, 0.0, 0.0
        self.tables = {
            "task": Table(Task, TaskRow, with_ids=True),
            "suggestion": Table(Suggestion, SuggestionRow, with_ids=True),
            "request": Table(TaskRequest, RequestRow, with_ids=True),
            "callback": Table(Callback, CallbackRow, with_ids=True),
            "assist": Table(TaskAssist, AssistRow, with_ids=False),
            "event": Table(TaskEvent, EventRow, with_ids=False),
        }
        with transaction.atomic():
            loaded = [Task, Suggestion, TaskRequest, Callback, TaskAssist, TaskEvent]
            with constraints_and_inverted_indexes_rebuilt_after(loaded, adding=self.total, log=self.log):
                for start in range(0, len(plans), CHUNK):
                    tick = time.monotonic()
                    sims = []
                    for plan in plans[start:start + CHUNK]:
                        sim = self.simulate(plan)
                        sims.append(sim)
                        sims.extend(self.simulate(dup, target_sim=sim) for dup in plan.dups)
                    tock = time.monotonic()
                    events += self.write(sims)
                    simulating, writing = simulating + tock - tick, writing + time.monotonic() - tock
                    self.log(f"  {min(start + CHUNK, len(plans))}/{len(plans)} plans written "
                             f"({time.monotonic() - started:.1f}s: simulating {simulating:.1f}s, "
                             f"writing {writing:.1f}s)")
            tick = time.monotonic()
        self.log(f"committed in {time.monotonic() - tick:.1f}s ({time.monotonic() - started:.1f}s in all)")
        for name, table in self.tables.items():
            self.log(f"  {name:<10} {table.rows:>8,} rows: converting {table.seconds_converting:.1f}s, "
                     f"inserting {table.seconds_inserting:.1f}s")
        return {"suggestions": self.sequence, "events": events, "unfinished": self.ctx.unfinished}


def _topics_for(department) -> list:
    """Topics a department leads: by its code, or the local ones for a township office."""
    if department.township_id is not None:
        return [t for t in content.TOPICS if any(code in (content.OFFICE, content.LOCAL) for code, _w in t.departments)]
    return [t for t in content.TOPICS if any(code == department.code for code, _w in t.departments)]
