"""Reads of the Open311 API: service requests (one per suggestion) as the public may see them.

A public answer carries the case's coarse status, category, department, dates and place,
never the citizen's name or phone and never the content, which citizens often write their
details into. The system that created a request (its API key) reads back its description
and the published reply as well.
"""

import dataclasses
import datetime as dt

from django.db.models import BooleanField, Func, Max, Q

from citizens import progress
from feedback.models import Category, Suggestion
from tasks.models import State, Task, TaskEvent

from . import catalogue
from .models import ApiKey, ApiKeyUse

OPEN, CLOSED = "open", "closed"
CLOSED_STATES = (State.CLOSED,)
MAX_PAGE_SIZE = 1000
DEFAULT_SPAN = dt.timedelta(days=90)

_COLUMNS = (
    "pk", "received_at", "category", "urgency", "channel", "latitude", "longitude", "task_id",
    "township__name", "village__name", "task__state", "task__deadline", "task__lead_department__name",
)


@dataclasses.dataclass
class ServiceRequest:
    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str
    requested_datetime: dt.datetime
    updated_datetime: dt.datetime
    expected_datetime: dt.datetime | None
    address: str
    address_id: None
    zipcode: None
    lat: float | None
    long: float | None
    media_url: None


def _rows(queryset, *, api_key: ApiKey | None) -> list[ServiceRequest]:
    """Turn narrow value rows into requests: two more queries (last timeline times; the key's own requests)."""
    rows = list(queryset.values(*_COLUMNS))
    if not rows:
        return []
    task_ids = {row["task_id"] for row in rows}
    updated = dict(
        TaskEvent.objects.filter(task_id__in=task_ids).order_by().values("task_id").annotate(last=Max("at"))
        .values_list("task_id", "last")
    )
    own = {}
    if api_key is not None:
        own = {
            row["pk"]: row
            for row in Suggestion.objects.filter(
                pk__in=ApiKeyUse.objects.filter(api_key=api_key, suggestion_id__in=[r["pk"] for r in rows])
                .values("suggestion_id")
            ).values("pk", "content", "task__state", "task__reply")
        }
    names = {c.value: str(c.label) for c in Category}
    stage_labels = {state: progress.stage_label(state) for state in State.values}
    notices: dict[tuple, str] = {}
    requests = []
    for row in rows:
        state = row["task__state"]
        with_department = state in progress.DEPARTMENT_STATES
        rule = (row["category"], row["urgency"], row["channel"])
        if rule not in notices:
            notices[rule] = catalogue.handling_notice(category=rule[0], urgency=rule[1], channel=rule[2])
        notes = stage_labels[state]
        description = None
        mine = own.get(row["pk"])
        if mine is not None:
            description = mine["content"]
            if mine["task__state"] in progress.PUBLISHED_REPLY_STATES and mine["task__reply"]:
                notes = mine["task__reply"]
        requests.append(
            ServiceRequest(
                service_request_id=str(row["pk"]),
                status=CLOSED if state in CLOSED_STATES else OPEN,
                status_notes=notes,
                service_name=names.get(row["category"], row["category"]),
                service_code=row["category"],
                description=description,
                agency_responsible=row["task__lead_department__name"] if with_department else None,
                service_notice=notices[rule],
                requested_datetime=row["received_at"],
                updated_datetime=max(updated.get(row["task_id"]) or row["received_at"], row["received_at"]),
                expected_datetime=row["task__deadline"] if with_department else None,
                address=" ".join(filter(None, (row["township__name"], row["village__name"]))),
                address_id=None,
                zipcode=None,
                lat=row["latitude"],
                long=row["longitude"],
                media_url=None,
            )
        )
    return requests


class _IsTrue(Func):
    """(condition) IS TRUE: keeps an IN (subquery) as a filter PostgreSQL evaluates with one hash,
    instead of the semi-join it would otherwise plan as a nested loop over every row of the range."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()


def _open_tasks():
    # Open tasks are the work in hand (thousands; 53,000 in bench/open311.py's 1,000,000), whatever the
    # archive's size, so "open" and "closed" both test membership in that one small set. The condition
    # matches the partial index asked for on tasks_task (id WHERE state <> 'closed').
    return Task.objects.exclude(state=State.CLOSED).values("pk")


def service_requests(
    *,
    start: dt.datetime,
    end: dt.datetime,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    page: int = 1,
    page_size: int = MAX_PAGE_SIZE,
    api_key: ApiKey | None = None,
) -> list[ServiceRequest]:
    """Requests received between start and end (inclusive), newest first, one page of them."""
    matching = Suggestion.objects.filter(received_at__gte=start, received_at__lte=end)
    if service_codes:
        matching = matching.filter(category__in=service_codes)
    statuses = set(statuses or ())
    if statuses == {OPEN}:
        matching = matching.filter(_IsTrue(Q(task_id__in=_open_tasks())))
    elif statuses == {CLOSED}:
        # NOT IN stays a hashed filter by itself.
        matching = matching.exclude(task_id__in=_open_tasks())
    offset = (page - 1) * page_size
    # The page's ids first, from the received-time index alone (it includes task_id and category),
    # then the joins for those rows only.
    page_ids = matching.order_by("-received_at", "-pk").values("pk")[offset : offset + page_size]
    return _rows(Suggestion.objects.filter(pk__in=page_ids).order_by("-received_at", "-pk"), api_key=api_key)


def service_requests_by_id(ids: list[int], *, api_key: ApiKey | None = None) -> list[ServiceRequest]:
    """The requests with these ids, in the order asked; unknown ids are left out."""
    found = {r.service_request_id: r for r in _rows(Suggestion.objects.filter(pk__in=ids), api_key=api_key)}
    return [found[str(pk)] for pk in dict.fromkeys(ids) if str(pk) in found]


def service_request_for_token(token: str) -> ApiKeyUse | None:
    """The log row of the POST that answered with this token, or None."""
    return ApiKeyUse.objects.filter(token=token).only("token", "suggestion_id").first()
