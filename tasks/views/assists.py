"""主办/协办 on the pages: the detail page's assisting section and the assisting department's list.

`assist_section()` is the context of templates/tasks/detail/_assists.html; `/tasks/assisting/`
lists the assisting parts of the user's department with their own sub-deadlines (the task
list shows the lead's deadline), open parts first by sub-deadline.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tables2 import LazyPaginator

from tasks.assist_selectors import assist_parts_of_department
from tasks.assist_tables import AssistPartTable
from tasks.services import open_assists, resolved_reply_refusal

PER_PAGE = 25


def assist_section(task, user, now) -> dict:
    """The detail page's assisting parts: each with its status for `now`, and what the lead still waits for."""
    parts = [
        {
            "assist": assist,
            "overdue": assist.is_overdue(now),
            "mine": user.is_department_staff and assist.department_id == user.department_id,
        }
        for assist in task.assists.all()
    ]
    waiting = None
    if parts and task.is_with_department and open_assists(task):
        waiting = resolved_reply_refusal(task)
    return {"assist_parts": parts, "assist_waiting": waiting}


@login_required
@require_GET
def assisting_list(request):
    """The assisting parts of the user's department: open ones first, nearest sub-deadline first."""
    user = request.user
    if not user.is_department_staff:
        raise Http404
    now = timezone.now()
    table = AssistPartTable(assist_parts_of_department(user), now=now)
    table.request = request
    try:
        page = int(request.GET.get(table.prefixed_page_field, 1))
    except ValueError:
        page = 1
    try:
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=page)
    except (EmptyPage, PageNotAnInteger):
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=1)
    return render(request, "tasks/assisting.html", {"table": table, "now": now})


urlpatterns = [
    path("assisting/", assisting_list, name="assisting"),
]
