"""Report card figures equal a recount from the raw records, for random (seeded) periods and scopes.

The recount here is independent of the engine: it loads every suggestion, task,
callback, return request, assisting part and score exclusion into Python and applies
DOMAIN.md's definitions (and tasks.reportcards.definitions' decisions on 退单, 协办 and
核减) with the model's own methods (Task.closed_on_time, Task.is_overdue,
Callback.is_satisfied) and tasks.calendar. The engine's live figures, its rollups once
refreshed, and the drilldown querysets must all agree with it, record for record,
including the records each figure leaves out by an approved score exclusion.
"""

import datetime as dt
import random
import types
from zoneinfo import ZoneInfo

import pytest

from feedback.models import Callback, CallbackResult, Suggestion
from tasks import calendar
from tasks.models import HANDLING_STATES, ScoreExclusion, State, Task, TaskAssist, TaskRequest
from tasks.reportcards import (
    DENOMINATOR,
    EXCLUDED,
    FIGURES,
    LIVE,
    MISSED,
    NUMERATOR,
    ROLLUP,
    Rate,
    city,
    figures_by_department,
    figures_by_township,
    figures_trend,
    for_department,
    for_township,
    parse_period,
    records_for,
    report_card,
    rollups_refresh,
)
from tasks.reportcards.periods import custom, day

from ..factories import DepartmentFactory, SuggestionFactory, TaskFactory, TownshipFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2021, 11, 10, 10, 0, tzinfo=TZ)
FIRST_DAY = dt.datetime(2021, 8, 20, tzinfo=TZ)
SPAN_DAYS = 100


def local(y, m, d, h=9, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


# --- A varied world --------------------------------------------------------------------

STAGES = {
    # stage: (weight, state)
    "registered": (6, State.REGISTERED),
    "reported": (2, State.REPORTED),
    "merged": (2, State.MERGED),
    "assigned": (6, State.ASSIGNED),
    "accepted": (6, State.ACCEPTED),
    "in_progress": (6, State.IN_PROGRESS),
    "awaiting": (3, State.AWAITING_APPROVAL),
    "return_requested": (3, State.RETURN_REQUESTED),
    "returned": (3, State.RETURNED),
    "replied": (6, State.REPLIED),
    "called_back": (5, State.CALLED_BACK),
    "closed": (20, State.CLOSED),
    "reopened": (4, State.IN_PROGRESS),
}
ACCEPTED_STAGES = {"accepted", "in_progress", "awaiting", "replied", "called_back", "closed", "reopened"}
REPLIED_STAGES = {"replied", "called_back", "closed"}
# Minutes from one step to the next: same hour, same day, overnight, over a weekend, late.
DELAYS = [1, 20, 90, 300, 600, 900, 1500, 2900, 4400, 7300, 12000]


WITH_LEAD = ACCEPTED_STAGES | {"assigned", "return_requested"}


def _add_returns_assists_and_exclusions(rng, task, stage, fields, departments, user):
    """Return requests (退单), assisting parts (协办) and score exclusions (核减) of every kind and status."""
    lead, Kind, Status = fields.get("lead_department"), TaskRequest.Kind, TaskRequest.Status
    assigned = fields.get("assigned_at")
    others = [d for d in departments if d != lead]

    def request(department, status, at):
        decided = at + dt.timedelta(minutes=rng.choice(DELAYS)) if status != Status.PENDING else None
        TaskRequest.objects.create(
            task=task, kind=Kind.RETURN, department=department, status=status, reason="非本单位职责",
            requested_by=user, requested_at=at, decided_at=decided,
        )

    if stage == "return_requested":
        request(lead, Status.PENDING, fields.get("accepted_at") or assigned)
    elif stage == "returned":
        request(rng.choice(departments), Status.APPROVED, assigned)
    elif stage in WITH_LEAD and rng.random() < 0.25:
        # Refused (the task stayed), or approved earlier by a department it was reassigned from.
        request(lead if rng.random() < 0.7 else rng.choice(others), rng.choice([Status.REFUSED, Status.APPROVED]),
                assigned + dt.timedelta(minutes=rng.choice(DELAYS)))
    if stage in WITH_LEAD and rng.random() < 0.35:
        for department in rng.sample(others, rng.choice([1, 1, 2])):
            deadline = None if rng.random() < 0.1 else assigned + dt.timedelta(days=rng.choice([1, 3, 8]))
            replied = assigned + dt.timedelta(minutes=rng.choice(DELAYS) * 3) if rng.random() < 0.6 else None
            TaskAssist.objects.create(task=task, department=department, deadline=deadline, replied_at=replied)
    if stage in WITH_LEAD | {"returned"} and rng.random() < 0.3:
        # Mostly the lead's own; sometimes a department's that no longer leads the task.
        department = lead if lead is not None and rng.random() < 0.8 else rng.choice(departments)
        status = rng.choice([ScoreExclusion.Status.APPROVED] * 3 + [ScoreExclusion.Status.REFUSED,
                                                                    ScoreExclusion.Status.PENDING])
        ScoreExclusion.objects.create(
            task=task, department=department, reason=ScoreExclusion.Reason.UNREASONABLE, text="诉求不合理",
            status=status, requested_by=user,
        )


def build_world(seed: int, *, departments, townships, tasks: int = 140):
    """Tasks in every state with assignment, acceptance, reply and closing times over three months,
    with return requests, assisting parts and score exclusions."""
    rng = random.Random(seed)
    user = UserFactory(username=f"world-{seed}", role="handler", department=departments[0])
    names, weights = zip(*((name, weight) for name, (weight, _state) in STAGES.items()), strict=True)
    for _ in range(tasks):
        registered = FIRST_DAY + dt.timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        stage = rng.choices(names, weights)[0]
        township = rng.choice(townships)
        fields = {"state": STAGES[stage][1], "township": township, "created_at": registered}
        after = registered
        if stage not in ("registered", "reported", "merged"):
            after = assigned = registered + dt.timedelta(minutes=rng.choice(DELAYS))
            deadline = None if rng.random() < 0.1 else assigned + dt.timedelta(days=rng.choice([1, 3, 5, 13, 15]))
            if deadline is not None and rng.random() < 0.2:
                deadline += dt.timedelta(days=rng.choice([3, 10]))  # an approved extension
            fields.update(assigned_at=assigned, deadline=deadline, lead_department=rng.choice(departments))
            if stage in ACCEPTED_STAGES or (stage == "return_requested" and rng.random() < 0.5):
                after = fields["accepted_at"] = assigned + dt.timedelta(minutes=rng.choice(DELAYS))
            if stage in REPLIED_STAGES:
                replied = after + dt.timedelta(minutes=rng.choice(DELAYS) * rng.choice([1, 3, 10]))
                # A closing without a recorded reply time exercises "replied_at or closed_at".
                fields["replied_at"] = None if stage == "closed" and rng.random() < 0.15 else replied
                after = replied
            if stage == "closed":
                after = fields["closed_at"] = after + dt.timedelta(minutes=rng.choice(DELAYS))
            if stage == "returned":
                fields.update(lead_department=None, deadline=None)
            if stage == "reopened":
                fields["deadline"] = after + dt.timedelta(days=rng.choice([-2, 5]))
        task = TaskFactory(suggestion=False, **fields)
        _add_returns_assists_and_exclusions(rng, task, stage, fields, departments, user)
        if stage != "merged":
            for n in range(rng.choice([1, 1, 1, 2, 3])):
                # Later suggestions were merged in, sometimes from a neighbouring township.
                registered_at = registered if n == 0 else registered + dt.timedelta(minutes=rng.choice(DELAYS))
                SuggestionFactory(
                    task=task,
                    township=township if rng.random() < 0.8 else rng.choice(townships),
                    received_at=registered_at - dt.timedelta(minutes=rng.choice([0, 30, 600, 3000])),
                    registered_at=registered_at,
                )
        if stage in ("replied", "called_back", "closed", "reopened"):
            for _ in range(rng.choice([0, 1, 1, 2])):
                Callback.objects.create(
                    task=task,
                    result=rng.choice(CallbackResult.values),
                    called_at=after + dt.timedelta(minutes=rng.choice(DELAYS)),
                )


@pytest.fixture
def world(db, departments):
    townships = [TownshipFactory(name="留早镇", short_name="留早"), TownshipFactory(name="东亭镇", short_name="东亭")]
    handling = [departments.zhujian, departments.chengguan, DepartmentFactory(name="民政局", code="minzheng")]
    build_world(20211025, departments=handling, townships=townships)
    return types.SimpleNamespace(departments=handling, townships=townships)


# --- The independent recount -------------------------------------------------------------


def _local_date(moment):
    return moment.astimezone(TZ).date()


def same_working_day(event, response) -> bool:
    """The response is no later than the end of the first working day on or after the event's local date."""
    if response is None:
        return False
    event_day = _local_date(event)
    deadline_day = event_day if calendar.is_working_day(event_day) else calendar.next_working_day(event_day)
    return _local_date(response) <= deadline_day


def recount(scope, period, *, now=NOW) -> dict[str, set[int]]:
    """Every counter's records (ids), from all rows in Python; `<family>_excluded` the rows 核减 left out."""

    def in_period(moment):
        return moment is not None and period.start <= moment < period.end

    if scope.kind == "city":
        task_ok = suggestion_ok = callback_ok = request_ok = assist_ok = lambda row: True  # noqa: E731
    elif scope.kind == "department":
        task_ok = lambda t: t.lead_department_id == scope.unit_id  # noqa: E731
        suggestion_ok = callback_ok = lambda row: row.task.lead_department_id == scope.unit_id  # noqa: E731
        request_ok = assist_ok = lambda row: row.department_id == scope.unit_id  # noqa: E731
    else:
        task_ok = lambda t: t.township_id == scope.unit_id  # noqa: E731
        suggestion_ok = lambda s: s.township_id == scope.unit_id  # noqa: E731
        callback_ok = request_ok = assist_ok = lambda row: row.task.township_id == scope.unit_id  # noqa: E731

    approved = set(
        ScoreExclusion.objects.filter(status=ScoreExclusion.Status.APPROVED).values_list("task_id", "department_id")
    )
    tasks = [t for t in Task.objects.all() if task_ok(t)]
    suggestions = [s for s in Suggestion.objects.select_related("task") if suggestion_ok(s)]
    callbacks = [c for c in Callback.objects.select_related("task") if callback_ok(c)]
    returns = list(TaskRequest.objects.filter(kind=TaskRequest.Kind.RETURN).select_related("task"))
    returned_by = {(r.task_id, r.department_id) for r in returns}
    refusals = [r for r in returns if request_ok(r) and r.status == TaskRequest.Status.REFUSED]
    assists = [a for a in TaskAssist.objects.select_related("task") if assist_ok(a)]

    def excluded(row) -> bool:
        if isinstance(row, Task):
            return (row.pk, row.lead_department_id) in approved
        if isinstance(row, TaskRequest):
            return (row.task_id, row.department_id) in approved
        return row.task is not None and (row.task_id, row.task.lead_department_id) in approved

    ids = lambda rows: {row.pk for row in rows}  # noqa: E731
    result = {}

    def family(name, rows, counters):
        """Record the family's counters over its counted rows, and the rows exclusions left out."""
        rows = list(rows)
        counted = [row for row in rows if not excluded(row)]
        result[f"{name}_excluded"] = ids(row for row in rows if excluded(row))
        for counter, keep in counters.items():
            result[counter] = ids(row for row in counted if keep(row))

    everything = lambda row: True  # noqa: E731
    result["received"] = ids(s for s in suggestions if in_period(s.received_at))  # never excluded
    family("assigned", (t for t in tasks if in_period(t.assigned_at) and t.lead_department_id is not None), {
        "assigned": everything,
        "assigned_closed": lambda t: t.state == State.CLOSED,
        "assigned_timely": lambda t: same_working_day(t.assigned_at, t.accepted_at),
        "assigned_returned": lambda t: (t.pk, t.lead_department_id) in returned_by,
    })
    family("closed", (t for t in tasks if t.state == State.CLOSED and in_period(t.closed_at)), {
        "closed": everything, "closed_on_time": lambda t: t.closed_on_time(),
    })
    family("overdue", (t for t in tasks if t.is_overdue(now)), {"overdue": everything})
    family("registered", (s for s in suggestions if in_period(s.registered_at)), {
        "registered": everything,
        "registered_same_day": lambda s: s.task.lead_department_id is not None
        and same_working_day(s.registered_at, s.task.assigned_at),
    })
    family("callbacks", (c for c in callbacks if in_period(c.called_at)), {
        "callbacks": everything, "callbacks_satisfied": lambda c: c.is_satisfied,
    })
    family("returns_refused", (r for r in refusals if in_period(r.decided_at)), {"returns_refused": everything})
    parts = [a for a in assists if a.task.lead_department_id is not None and in_period(a.task.assigned_at)]
    result["assists"] = ids(parts)  # an assisting department's own part: never excluded
    result["assists_on_time"] = ids(
        a for a in parts if a.replied_at is not None and (a.deadline is None or a.replied_at <= a.deadline)
    )
    result["assists_overdue"] = ids(
        a for a in assists
        if a.task.state in HANDLING_STATES and a.replied_at is None and a.deadline is not None and a.deadline < now
    )
    return result


def excluded_counter(figure):
    return None if figure.code in ("received", "assist_parts", "assist_on_time_rate", "assist_overdue") else (
        figure.base.split("_")[0] if figure.base != "returns_refused" else "returns_refused"
    ) + "_excluded"


def assert_card_equals_recount(card, expected):
    for code, figure in FIGURES.items():
        value = card[code]
        if isinstance(value, Rate):
            numerator, denominator = expected[figure.numerator], expected[figure.denominator]
            assert (value.numerator, value.denominator) == (len(numerator), len(denominator)), code
            assert value.rate == (len(numerator) / len(denominator) if denominator else None), code
        else:
            assert value == len(expected[figure.numerator]), code
        counter = excluded_counter(figure)
        if counter is None:
            assert card.excluded(code) is None, code
        elif code == "overdue" and card.overdue is None:
            assert card.excluded(code) is None
        else:
            assert card.excluded(code) == len(expected[counter]), code


def assert_records_equal_recount(scope, period, expected):
    for code, figure in FIGURES.items():

        def ids(part, code=code):
            return set(records_for(code, scope, period, part=part, now=NOW).values_list("pk", flat=True))

        assert ids(NUMERATOR) == expected[figure.numerator], code
        if figure.denominator:
            assert ids(DENOMINATOR) == expected[figure.denominator], code
            assert ids(MISSED) == expected[figure.denominator] - expected[figure.numerator], code
        if excluded_counter(figure):
            assert ids(EXCLUDED) == expected[excluded_counter(figure)], code


def random_periods(rng, count):
    fixed = ["2021-08", "2021-09", "2021-10", "2021-11", "2021-Q3", "2021-Q4", "2021", "2020-03"]
    result = [parse_period(text) for text in rng.sample(fixed, 4)]
    while len(result) < count:
        first = FIRST_DAY.date() + dt.timedelta(days=rng.randrange(SPAN_DAYS))
        last = first + dt.timedelta(days=rng.randrange(0, 40))
        result.append(day(first) if first == last else custom(first, last))
    return result


def all_scopes(world):
    return [city(), *map(for_department, world.departments), *map(for_township, world.townships)]


# --- The tests ---------------------------------------------------------------------------


def test_the_world_covers_every_figure(world):
    whole = custom(FIRST_DAY.date(), dt.date(2021, 12, 31))
    expected = recount(city(), whole)
    for counter, ids in expected.items():
        assert ids, f"the test data produce no {counter}"
    # And the harder halves too: some tasks late, some callbacks unsatisfied, and so on.
    for figure in FIGURES.values():
        if figure.denominator:
            assert expected[figure.denominator] - expected[figure.numerator], figure.code


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_figures_and_drilldowns_equal_a_recount(world, seed):
    rng = random.Random(seed)
    scopes = all_scopes(world)
    for period in random_periods(rng, 7):
        for scope in rng.sample(scopes, 3):
            expected = recount(scope, period)
            assert_card_equals_recount(report_card(scope, period, now=NOW, source=LIVE), expected)
            assert_records_equal_recount(scope, period, expected)


def test_rollup_figures_equal_a_recount_once_refreshed(world):
    refresh = rollups_refresh()
    assert refresh is not None and refresh.rows > 0
    rng = random.Random(7)
    for period in random_periods(rng, 6):
        for scope in all_scopes(world):
            card = report_card(scope, period, now=NOW, source=ROLLUP)
            assert card.source == ROLLUP and card.as_of == refresh.as_of
            assert_card_equals_recount(card, recount(scope, period))


@pytest.mark.parametrize("source", [LIVE, ROLLUP])
def test_rankings_give_each_unit_its_own_card(world, source):
    rollups_refresh()
    period = parse_period("2021-Q4")
    by_department = figures_by_department(period, now=NOW, source=source)
    # The supervision office dispatches and never appears among the handling departments.
    assert [card.scope.department for card in by_department] == world.departments
    for card in by_department:
        assert_card_equals_recount(card, recount(card.scope, period))
    by_township = figures_by_township(period, now=NOW, source=source)
    assert [card.scope.township for card in by_township] == world.townships
    for card in by_township:
        assert_card_equals_recount(card, recount(card.scope, period))


@pytest.mark.parametrize("source", [LIVE, ROLLUP])
def test_a_trend_is_the_cards_of_its_steps(world, source):
    rollups_refresh()
    period = parse_period("2021-08-25..2021-11-20")
    scope = for_department(world.departments[0])
    trend = figures_trend(scope, period, "month", source=source)
    assert [p.code for p in (card.period for card in trend)] == [
        "2021-08-25..2021-08-31", "2021-09", "2021-10", "2021-11-01..2021-11-20",
    ]
    for card in trend:
        assert card.overdue is None
        expected = recount(scope, card.period)
        for counter in expected:
            if not counter.startswith(("overdue", "assists_overdue")):
                assert card.counters[counter] == len(expected[counter]), (card.period, counter)


def test_task_figures_of_the_departments_add_up_to_the_city(world):
    period = parse_period("2021")
    total = report_card(city(), period, now=NOW, source=LIVE)
    cards = figures_by_department(period, now=NOW, source=LIVE)
    for counter in ("assigned", "assigned_closed", "assigned_timely", "assigned_returned", "assigned_excluded",
                    "closed", "closed_on_time", "closed_excluded", "callbacks", "callbacks_excluded",
                    "returns_refused", "returns_refused_excluded", "assists", "assists_on_time"):
        assert sum(card.counters[counter] for card in cards) == total.counters[counter], counter
    assert sum(card.overdue for card in cards) == total.overdue
    # Suggestions of tasks not yet assigned count for the city but for no department.
    assert sum(card.counters["received"] for card in cards) < total.counters["received"]


def test_overdue_is_counted_now_whatever_the_period(world):
    later = NOW + dt.timedelta(days=30)
    assert report_card(city(), parse_period("2020-03"), now=NOW, source=LIVE).overdue == len(
        recount(city(), parse_period("2020-03"))["overdue"]
    )
    approved = set(ScoreExclusion.objects.filter(status="approved").values_list("task_id", "department_id"))
    expected_later = {
        t.pk for t in Task.objects.filter(state__in=HANDLING_STATES)
        if t.is_overdue(later) and (t.pk, t.lead_department_id) not in approved
    }
    assert report_card(city(), parse_period("2020-03"), now=later, source=LIVE).overdue == len(expected_later)
