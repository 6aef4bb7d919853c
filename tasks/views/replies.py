"""Reply templates (/tasks/reply-templates/) and a leader's instruction on a task (/tasks/<id>/instructions/add/).

Templates: a department head manages the own department's, supervisors and admins the
global ones; anyone else gets 403, and a template the user may not manage answers 404.
An instruction is a leader's POST from the task page; everyone else gets 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks.errors import DomainError
from tasks.models.replies import PLACEHOLDERS
from tasks.reply_templates import may_manage_templates, templates_editable_by, templates_offered
from tasks.replies_forms import InstructionForm, ReplyTemplateForm
from tasks.services import instructions, replies

from .detail import _render, _task_for


def _require_manager(user) -> None:
    if not may_manage_templates(user):
        raise PermissionDenied(_("Reply templates are managed by department heads, supervisors and admins."))


def _template_for(request, pk):
    """A template the user may manage, else 404."""
    return get_object_or_404(templates_editable_by(request.user), pk=pk)


@login_required
@require_http_methods(["GET"])
def reply_template_list(request):
    """The templates the user manages (active and not), and the global ones a head's department also gets."""
    _require_manager(request.user)
    editable = list(templates_editable_by(request.user).order_by("-is_active", "sort_order", "title", "pk"))
    shared = list(templates_offered(request.user).filter(department__isnull=True)) if request.user.is_head else []
    return render(
        request, "tasks/replies/list.html", {"templates": editable, "shared": shared, "placeholders": PLACEHOLDERS}
    )


@login_required
@require_http_methods(["GET", "POST"])
def reply_template_create(request):
    """A new template for the head's department, or a global one."""
    _require_manager(request.user)
    form = ReplyTemplateForm(request.POST or None)
    return _save(request, form, lambda **kwargs: replies.reply_template_create(actor=request.user, **kwargs))


@login_required
@require_http_methods(["GET", "POST"])
def reply_template_edit(request, pk):
    """Change a template's title, text, order or whether it is offered."""
    _require_manager(request.user)
    template = _template_for(request, pk)
    form = ReplyTemplateForm(request.POST or None, instance=template)
    return _save(
        request, form, lambda **kwargs: replies.reply_template_update(actor=request.user, template=template, **kwargs)
    )


def _save(request, form, service):
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                service(**form.service_kwargs())
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("The reply template was saved."))
                return redirect("tasks:reply_templates")
        status = 400
    context = {"form": form, "template": form.instance if form.instance.pk else None, "placeholders": PLACEHOLDERS}
    return render(request, "tasks/replies/form.html", context, status=status)


@login_required
@require_POST
def reply_template_deactivate(request, pk):
    """Stop offering a template (it can be reactivated on its edit page)."""
    _require_manager(request.user)
    template = _template_for(request, pk)
    replies.reply_template_deactivate(actor=request.user, template=template)
    messages.success(request, _("The reply template “%(title)s” is no longer offered.") % {"title": template.title})
    return redirect("tasks:reply_templates")


@login_required
@require_POST
def task_instruct(request, pk):
    """A leader's instruction (批示) on the task, then back to the task."""
    if not request.user.is_leader:
        raise PermissionDenied(_("Only leaders may give an instruction on a task."))
    task = _task_for(request, pk)
    form = InstructionForm(request.POST)
    if form.is_valid():
        try:
            instructions.task_instruct(actor=request.user, task=task, text=form.cleaned_data["text"])
        except DomainError as exc:
            messages.error(request, str(exc))
            return _render(request, task, status=409)
        messages.success(request, _("Your instruction was recorded and sent to the lead department."))
        return redirect("tasks:detail", pk=task.pk)
    messages.error(request, _("The instruction was not recorded: correct the form."))
    return _render(request, task, instruction_form=form, status=400)


urlpatterns = [
    path("reply-templates/", reply_template_list, name="reply_templates"),
    path("reply-templates/new/", reply_template_create, name="reply_template_create"),
    path("reply-templates/<int:pk>/", reply_template_edit, name="reply_template_edit"),
    path("reply-templates/<int:pk>/deactivate/", reply_template_deactivate, name="reply_template_deactivate"),
    path("<int:pk>/instructions/add/", task_instruct, name="instruct"),
]
