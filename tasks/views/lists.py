"""The officials' task list: filtered, searched, sorted, paged without counting."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2 import LazyPaginator

from feedback.exports import csv_response, xlsx_response

from .. import selectors
from ..filters import TaskFilter
from ..tables import TaskListTable, task_export

PER_PAGE = 25


@login_required
def task_list(request):
    """The tasks the user may read (tasks_visible_to), narrowed by the filters; no total is counted."""
    now = timezone.now()
    user = request.user
    filterset, rows = _filtered(request, now)
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
        "export_query": _export_query(request),
    }
    return render(request, "tasks/list.html", context)


def _filtered(request, now):
    """The filter set and the rows it leaves of the tasks the user may read."""
    tasks = selectors.task_list(request.user)
    filterset = TaskFilter(request.GET or None, queryset=tasks, request=request, now=now)
    # A filter value that makes no sense shows its error and no rows, not rows that ignore it.
    rows = filterset.qs if filterset.is_valid() or not filterset.is_bound else tasks.none()
    return filterset, rows


def _export_query(request) -> str:
    query = request.GET.copy()
    for key in ("page", "sort"):
        query.pop(key, None)
    return query.urlencode()


@login_required
@require_GET
def task_export_csv(request):
    """The list with its filters as CSV (UTF-8 with BOM), streamed; the same scope as the page."""
    rows = _filtered(request, timezone.now())[1]
    return csv_response(task_export(rows), _export_name())


@login_required
@require_GET
def task_export_xlsx(request):
    """The list with its filters as an .xlsx workbook; the same scope as the page."""
    rows = _filtered(request, timezone.now())[1]
    return xlsx_response(task_export(rows), _export_name(), sheet_title=_("tasks"))


def _export_name() -> str:
    return f"{_('tasks')}-{timezone.localtime().strftime('%Y%m%d-%H%M')}"


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
    path("export.csv", task_export_csv, name="export_csv"),
    path("export.xlsx", task_export_xlsx, name="export_xlsx"),
]
