"""The task page's 核减 section (tasks/detail/_exclusions.html): what the user may read and do there."""

from tasks.exclusion_forms import ExclusionDecisionForm, ExclusionRequestForm
from tasks.models import ScoreExclusion
from tasks.selectors import tasks_visible_to
from tasks.services import refusal

# Set on the request by a refused POST, so the task page shows the form with its input and errors.
BOUND_ATTR = "exclusion_bound"


def exclusions_visible_to(user, queryset=None):
    """Applications the user may read (on tasks the user may read)."""
    rows = (queryset if queryset is not None else ScoreExclusion.objects.all()).select_related(
        "task", "task__township", "department", "requested_by", "decided_by"
    )
    if not (user.is_authenticated and user.is_active):
        return rows.none()
    if user.sees_all_departments:
        return rows
    if user.is_department_staff:
        return rows.filter(department_id=user.department_id, task__in=tasks_visible_to(user).values("pk"))
    return rows.none()


def exclusion_section(request, task) -> dict:
    """The task page's 核减 section: the applications the user may read, and the forms the user may use now."""
    user = request.user
    bound = getattr(request, BOUND_ATTR, None) or (None, None, None)
    items = []
    may_decide = refusal("decide_exclusion", task, user) is None
    for exclusion in exclusions_visible_to(user, task.score_exclusions.order_by("-requested_at", "-pk")):
        form = None
        if may_decide and exclusion.is_pending:
            form = bound[1] if bound[0] == "decide" and bound[2] == exclusion.pk else ExclusionDecisionForm(
                auto_id=f"id_exclusion_{exclusion.pk}_%s"
            )
        items.append({"exclusion": exclusion, "decision_form": form})
    request_form = None
    open_ = {ScoreExclusion.Status.PENDING, ScoreExclusion.Status.APPROVED}
    already = any(i["exclusion"].department_id == task.lead_department_id and i["exclusion"].status in open_
                  for i in items)
    if not already and refusal("request_exclusion", task, user) is None:
        request_form = bound[1] if bound[0] == "request" else ExclusionRequestForm(auto_id="id_exclusion_%s")
    pending = any(item["decision_form"] is not None for item in items)
    return {"items": items, "request_form": request_form, "open": bound[0] is not None, "pending": pending}
