"""The task page's leader instructions (at its top) and the reply form's templates.

Kept apart from tasks.views.detail so that page's module stays about the lifecycle.
"""

from tasks.reply_templates import filled_templates
from tasks.replies_forms import InstructionForm


def instruction_context(request, task, form=None) -> dict:
    """The task's instructions, newest first, and a leader's form to add one (one query)."""
    user = request.user
    if form is None and user.is_leader and task.merged_into_id is None:
        form = InstructionForm(auto_id="id_instruction_%s")
    return {
        "instructions": list(task.instructions.select_related("author")),
        "instruction_form": form,
    }


def reply_template_context(request, task, action_forms, bound) -> dict:
    """The templates offered in the reply form, filled for this task; ?template=<id> pre-fills the reply box.

    The pre-fill is the form without JavaScript: a GET form beside the reply form asks for
    the page again with the chosen template, and the reply box starts with its text.
    """
    reply_form = next((form for action, form in action_forms if action == "reply"), None)
    if reply_form is None:
        return {"reply_templates": []}
    templates = filled_templates(task, request.user)
    context = {"reply_templates": templates, "reply_template_chosen": None}
    chosen = request.GET.get("template", "")
    if bound is None and chosen.isdigit():
        for template, text in templates:
            if template.pk == int(chosen):
                reply_form.initial["reply"] = text
                context.update(reply_template_chosen=template.pk, bound_action="reply")
    return context
