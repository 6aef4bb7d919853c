"""Login and each role's home page: what that role does first."""

import math

from axes.helpers import get_cool_off, get_failure_limit
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tasks import assist_selectors, selectors
from tasks.assist_tables import AssistPartTable
from tasks.returns import RequestQueueTable
from tasks.tables import SuggestionTable, TaskTable

from .forms import LoginForm
from .models import User

# Home pages show the first rows of each list with a total counted once in the database.
HOME_LIST_LIMIT = 20


class LoginView(auth_views.LoginView):
    """Django's login view with our form, and the lockout policy shown before anyone trips it."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cool_off = get_cool_off(self.request)
        context["failure_limit"] = get_failure_limit(self.request, None)
        context["cooloff_minutes"] = int(cool_off.total_seconds() // 60) if cool_off else None
        return context


@login_required
def home(request):
    """The signed-in user's first screen, chosen by role."""
    user = request.user
    now = timezone.now()
    build = _HOME_BY_ROLE.get(user.role)
    context = build(user, now) if build else {}
    context.update(now=now, list_limit=HOME_LIST_LIMIT)
    template = f"home/{user.role}.html" if build else "home/other.html"
    return render(request, template, context)


def _first(queryset) -> list:
    """The first rows of a list, evaluated here so that rendering runs no query."""
    return list(queryset[:HOME_LIST_LIMIT])


def _department_desk(user: User, now) -> dict:
    """Handlers: the department's open and overdue tasks, with counts."""
    department_id = user.department_id
    columns = ("reported_at", "replied_at")
    return {
        "counts": selectors.department_task_counts(user, now=now),
        "open_table": TaskTable(
            _first(selectors.department_open_tasks(user)), now=now, department_id=department_id, exclude=columns
        ),
        "overdue_table": TaskTable(
            _first(selectors.department_overdue_tasks(user, now=now)),
            now=now,
            department_id=department_id,
            exclude=columns,
        ),
        # 协办: the parts the department owes, by their own sub-deadlines.
        "assist_counts": assist_selectors.assist_part_counts(user, now=now),
        "assist_table": AssistPartTable(_first(assist_selectors.assist_parts_owed(user)), now=now),
    }


def _head_desk(user: User, now) -> dict:
    """Department heads: the handlers' desk plus replies awaiting their approval."""
    context = _department_desk(user, now)
    context["approval_table"] = TaskTable(
        _first(selectors.replies_awaiting_approval(user)), now=now, exclude=("reported_at", "lead_department")
    )
    return context


def _dispatch_picture(user: User, now) -> dict:
    """Supervisors: unassigned work, pending requests, overdue by department, reports awaiting review."""
    return {
        "dispatch": selectors.dispatch_counts(user, now=now),
        "request_counts": selectors.pending_request_counts(user),
        "request_table": RequestQueueTable(_first(selectors.pending_requests(user))),
        "overdue_by_department": _first(selectors.overdue_by_department(user, now=now)),
        "review_table": TaskTable(
            _first(selectors.tasks_awaiting_review(user)),
            now=now,
            exclude=("lead_department", "replied_at", "deadline", "days_overdue"),
        ),
    }


def _leader_overview(user: User, now) -> dict:
    """Leaders: the campaign's headline figures and the reports awaiting their review."""
    figures = selectors.campaign_figures(user, now=now)
    return {
        "figures": figures,
        "headline": campaign_headline(received=figures["received"], solved=figures["closed"]),
        "review_table": TaskTable(
            _first(selectors.tasks_awaiting_review(user)),
            now=now,
            exclude=("lead_department", "replied_at", "deadline", "days_overdue"),
        ),
    }


def _registrar_desk(user: User, now) -> dict:
    """Registrars: their own recent registrations, with counts."""
    return {
        "counts": selectors.registration_counts(user, now=now),
        "registration_table": SuggestionTable(_first(selectors.suggestions_registered_by(user))),
    }


def _admin_desk(user: User, now) -> dict:
    """Admins: links into the Django admin (rendered by the template only where they exist)."""
    return {}


_HOME_BY_ROLE = {
    User.Role.HANDLER: _department_desk,
    User.Role.HEAD: _head_desk,
    User.Role.SUPERVISOR: _dispatch_picture,
    User.Role.LEADER: _leader_overview,
    User.Role.REGISTRAR: _registrar_desk,
    User.Role.ADMIN: _admin_desk,
}


def campaign_headline(*, received: int, solved: int) -> str:
    """The campaign in the article's words: 征求意见建议6.1万条，解决各类问题5.7万余件."""
    if received < 10_000 or solved < 10_000:
        received_text = number_format(received, force_grouping=True)
        solved_text = number_format(solved, force_grouping=True)
    elif get_language().startswith("zh"):
        # Chinese rounds big counts to 万 (ten thousand); the solved count is floored, hence 余 ("more than").
        received_text = _("%(number)s ten thousand") % {"number": f"{round(received / 10_000, 1):g}"}
        solved_text = _("more than %(number)s ten thousand") % {"number": f"{math.floor(solved / 1000) / 10:g}"}
    else:
        received_text = _("about %(number)s") % {"number": number_format(round(received, -3), force_grouping=True)}
        solved_text = _("more than %(number)s") % {
            "number": number_format(math.floor(solved / 1000) * 1000, force_grouping=True)
        }
    return _("Suggestions collected: %(received)s; problems of all kinds solved: %(solved)s") % {
        "received": received_text,
        "solved": solved_text,
    }
