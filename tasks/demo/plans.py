"""What the generated year holds: how many tasks end in each state, and when each was registered.

A plan is one task to generate: its final state, registration instant, channel, place,
topic and category. Plans are drawn first and sorted by registration time, so task ids
grow with time as they would in a real database.
"""

import dataclasses
import itertools
import random

from feedback.models import Channel, Urgency
from org.models import Township
from tasks.models import State

from .clock import MINUTES, Clock
from .content import TOPICS

S = State
# Shares of the open tasks at the end of 2021 (about 5.5% of all tasks).
OPEN_SHARE = 0.055
OPEN_STATES = {
    S.REGISTERED: 0.05, S.REPORTED: 0.04, S.REVIEWED: 0.05, S.ASSIGNED: 0.10, S.ACCEPTED: 0.12,
    S.IN_PROGRESS: 0.35, S.AWAITING_APPROVAL: 0.07, S.REPLIED: 0.09, S.CALLED_BACK: 0.05,
    S.RETURN_REQUESTED: 0.04, S.RETURNED: 0.04,
}
# How many working days before the year's last one an open task of that state may have been
# registered (most of them recently: the draw leans towards the end).
OPEN_WINDOWS = {
    S.REGISTERED: 1, S.REPORTED: 1, S.REVIEWED: 1, S.ASSIGNED: 3, S.ACCEPTED: 50, S.IN_PROGRESS: 90,
    S.AWAITING_APPROVAL: 20, S.REPLIED: 15, S.CALLED_BACK: 8, S.RETURN_REQUESTED: 15, S.RETURNED: 10,
}
MERGED_SHARE = 0.005
# Shares of the closed tasks that took a detour on the way (at least one each, even in a small run).
DETOURS = {
    "return_approved": 0.02,  # assigned to a wrong department, returned, re-assigned
    "return_refused": 0.006,
    "extension_approved": 0.02,
    "extension_refused": 0.01,
    "look_back": 0.003,  # closed, drawn in the quarter's look-back review, redone
}
TV_PROBLEMS = 107

# The campaign picked up in the second half of the year.
MONTH_WEIGHTS = {1: 0.6, 2: 0.45, 3: 0.8, 4: 0.9, 5: 1.0, 6: 1.1, 7: 1.3, 8: 1.25, 9: 1.2, 10: 1.1, 11: 1.1, 12: 0.9}
CHANNEL_WEIGHTS = ((Channel.VISIT, 40), (Channel.HOTLINE, 33), (Channel.SUNSHINE, 10), (Channel.PORTAL, 9),
                   (Channel.OTHER, 8))
URGENT_SHARE = 0.04
# Closed tasks are registered up to this many working days before the year's end, so most
# finish inside 2021; the planner retries faster for the few that would not.
CLOSED_MARGIN = 8


@dataclasses.dataclass(slots=True)
class Plan:
    target: str
    reg_w: int
    channel: str
    category: str
    urgency: str
    township: object
    village: object
    topic: object
    phrase: int = 0  # which of the topic's phrases the citizen uses (it decides the category)
    detour: str = ""  # one of DETOURS, for a closed task
    episode: object = None
    lead: object = None  # forced lead department (TV problems)
    hold: int = 0  # a merge target is not assigned before this instant
    dups: list = dataclasses.field(default_factory=list)
    merge_w: int = 0  # for a duplicate: when it is merged


def state_counts(total: int) -> tuple[int, int, dict]:
    """(TV problems, merged duplicates, {open state: count}); the rest are closed."""
    tv = min(TV_PROBLEMS, total // 4)
    merged = max(1, round(total * MERGED_SHARE))
    open_total = round(total * OPEN_SHARE)
    open_counts = {state: max(1, round(open_total * share)) for state, share in OPEN_STATES.items()}
    return tv, merged, open_counts


class Planner:
    def __init__(self, *, clock: Clock, rng: random.Random, townships: list, villages: dict, year_first, year_last):
        self.clock, self.rng = clock, rng
        self.first = clock.day_index(year_first)
        self.last = clock.day_index(year_last)
        if clock.days[self.last] > year_last:
            self.last -= 1
        self.townships = townships
        self.villages = villages  # township id -> [Village]
        # Street offices hold the city's population: more suggestions per community.
        self.township_weights = list(itertools.accumulate(
            len(villages[t.pk]) * (2.5 if t.kind == Township.Kind.STREET else 1.0) for t in townships
        ))
        self._closed_days = list(range(self.first, self.last - CLOSED_MARGIN + 1))
        self._closed_cum = list(itertools.accumulate(
            MONTH_WEIGHTS[clock.days[i].month] for i in self._closed_days
        ))
        self._topic_cum = {
            month: list(itertools.accumulate(
                t.weight * ((2.5 if month in t.months else 0.15) if t.months else 1.0) for t in TOPICS
            ))
            for month in range(1, 13)
        }

    def _weighted(self, pairs):
        values, weights = zip(*pairs)
        return self.rng.choices(values, weights=weights)[0]

    def _place(self):
        township = self.rng.choices(self.townships, cum_weights=self.township_weights)[0]
        villages = self.villages[township.pk]
        village = self.rng.choice(villages) if villages and self.rng.random() < 0.92 else None
        return township, village

    def plan(self, target: str, day: int, *, topic=None, township=None, channel=None, episode=None, lead=None):
        rng = self.rng
        if township is None:
            township, village = self._place()
        else:
            villages = self.villages[township.pk]
            village = rng.choice(villages) if villages else None
        month = self.clock.days[day].month
        topic = topic or rng.choices(TOPICS, cum_weights=self._topic_cum[month])[0]
        phrase = rng.randrange(len(topic.phrases))
        return Plan(
            target=target,
            reg_w=day * MINUTES + rng.randint(0, 450),
            channel=channel or self._weighted(CHANNEL_WEIGHTS),
            category=topic.phrases[phrase][0],
            phrase=phrase,
            urgency=Urgency.URGENT if rng.random() < URGENT_SHARE else Urgency.NORMAL,
            township=township,
            village=village,
            topic=topic,
            episode=episode,
            lead=lead,
        )

    def closed_day(self) -> int:
        return self.rng.choices(self._closed_days, cum_weights=self._closed_cum)[0]

    def open_day(self, state: str) -> int:
        window = OPEN_WINDOWS[state]
        return self.last - int(window * self.rng.random() ** 2 + 0.5) if window else self.last

    def duplicate(self, target: Plan) -> Plan:
        """A second citizen's report of the same problem, registered soon after; merged before assignment."""
        rng = self.rng
        dup = dataclasses.replace(
            target, target=S.MERGED, channel=self._weighted(CHANNEL_WEIGHTS), episode=None, lead=None, hold=0, dups=[],
        )
        dup.reg_w = target.reg_w + rng.randint(5, 60)
        dup.merge_w = dup.reg_w + rng.randint(5, 60)
        target.hold = max(target.hold, dup.merge_w)
        target.dups.append(dup)
        return dup
