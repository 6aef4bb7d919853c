"""Reply templates (常用回复): which ones a user is offered or may edit, and how their placeholders are filled.

A template's text holds placeholders such as {citizen} (see tasks.models.replies.PLACEHOLDERS).
They are filled for one task and one user on the server: the reply form shows the filled
text (its static script copies it into the reply box, and ?template=<id> pre-fills the
box without JavaScript), and the handler edits it before sending. A placeholder the
template does not know is left as typed; the template forms refuse to save one.
"""

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext

from feedback.models import Urgency
from feedback.selectors import citizens_in_full

from .models.replies import PLACEHOLDER, ReplyTemplate


def templates_offered(user) -> QuerySet[ReplyTemplate]:
    """The active templates a user may pick in a reply form: the global ones and the own department's."""
    scope = Q(department__isnull=True)
    if user.is_department_staff:
        scope |= Q(department_id=user.department_id)
    return ReplyTemplate.objects.filter(scope, is_active=True).order_by("sort_order", "title", "pk")


def may_manage_templates(user) -> bool:
    """Department heads (their department's templates), supervisors and admins (the global ones)."""
    return user.is_authenticated and user.is_active and (user.is_head or user.is_supervisor or user.is_admin_role)


def templates_editable_by(user) -> QuerySet[ReplyTemplate]:
    """The templates a user may edit on the templates page, active or not."""
    templates = ReplyTemplate.objects.select_related("department", "created_by")
    if not may_manage_templates(user):
        return templates.none()
    if user.is_head:
        return templates.filter(department_id=user.department_id)
    return templates.filter(department__isnull=True)


def placeholder_values(task, user) -> dict[str, str]:
    """What each placeholder stands for in this task, as this user may see it (a citizen's name may be masked)."""
    suggestion = task.suggestions.order_by("received_at", "pk").only(
        "pk", "task_id", "citizen_name", "registered_by_id"
    ).first()
    citizen = ""
    if suggestion is not None and suggestion.citizen_name:
        row = (suggestion.pk, task.pk, task.lead_department_id, suggestion.registered_by_id)
        full = suggestion.pk in citizens_in_full(user, [row])
        citizen = suggestion.citizen_name if full else suggestion.masked_name
    return {
        # A template greets "尊敬的{citizen}": without a name it greets the citizen.
        "citizen": citizen or pgettext("reply template", "citizen"),
        "township": task.township.name if task.township_id else "",
        "deadline": deadline_text(task),
        "task_id": str(task.pk),
        "department": task.lead_department.name if task.lead_department_id else "",
    }


def deadline_text(task) -> str:
    """The handling deadline as people write it: a date, with the time for urgent (hour-based) tasks."""
    if task.deadline is None:
        return ""
    local = timezone.localtime(task.deadline)
    return date_format(local, "DATETIME_FORMAT" if task.urgency == Urgency.URGENT else "DATE_FORMAT")


def fill(body: str, values: dict[str, str]) -> str:
    """The template's text with each known placeholder replaced; unknown ones stay as typed."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)


def filled_templates(task, user) -> list[tuple[ReplyTemplate, str]]:
    """Each template the user is offered, with its text filled for this task (two queries)."""
    templates = list(templates_offered(user))
    if not templates:
        return []
    values = placeholder_values(task, user)
    return [(template, fill(template.body, values)) for template in templates]
