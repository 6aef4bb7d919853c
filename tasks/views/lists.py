"""The officials' task list: filtered, searched, sorted, paged without counting."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django_tables2 import LazyPaginator

from .. import selectors
from ..filters import TaskFilter
from ..tables import TaskListTable

PER_PAGE = 25


@login_required
def task_list(request):
    """The tasks the user may read (tasks_visible_to), narrowed by the filters; no total is counted."""
    now = timezone.now()
    user = request.user
    tasks = selectors.task_list(user)
    filterset = TaskFilter(request.GET or None, queryset=tasks, request=request, now=now)
    # A filter value that makes no sense shows its error and no rows, not rows that ignore it.
    rows = filterset.qs if filterset.is_valid() or not filterset.is_bound else tasks.none()
    table = TaskListTable(rows, now=now, department_id=user.department_id if user.is_department_staff else None)
    _sort_and_page(table, request)
    first = (table.page.number - 1) * PER_PAGE + 1
    context = {
        "filter": filterset,
        "table": table,
        "now": now,
        "first_row": first,
        "last_row": first + len(table.page.object_list) - 1,
        "has_more": table.page.has_next(),
        "filtered": filterset.is_bound and any(key not in ("page", "sort") for key in request.GET),
    }
    return render(request, "tasks/list.html", context)


def _sort_and_page(table, request) -> None:
    """Apply ?sort= (unsortable columns are ignored by the table) and ?page=, evaluating the page's rows.

    LazyPaginator fetches one row more than a page instead of counting every row; the page
    size is fixed (no ?per_page=100000). A page past the end shows the first page.
    """
    table.request = request
    sort = request.GET.getlist(table.prefixed_order_by_field)
    if sort:
        table.order_by = sort
    try:
        page = int(request.GET.get(table.prefixed_page_field, 1))
    except ValueError:
        page = 1
    try:
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=page)
    except (EmptyPage, PageNotAnInteger):
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=1)


urlpatterns = [
    path("", task_list, name="list"),
]
