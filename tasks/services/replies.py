"""Reply templates (常用回复): create, edit and deactivate, each checked against who may manage which.

A department head manages the own department's templates; supervisors and admins the
global ones (the Django admin edits any). Templates are no part of a task's lifecycle,
so they write no timeline entry.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks.errors import DomainError
from tasks.models import ReplyTemplate
from tasks.reply_templates import may_manage_templates, templates_editable_by

from ._base import clean_text


def _refuse_unless_manager(actor: User) -> None:
    if not may_manage_templates(actor):
        raise DomainError(_("Only department heads, supervisors and admins may manage reply templates."))


def _validated(template: ReplyTemplate) -> ReplyTemplate:
    """Model validation (unknown placeholders, lengths) as a DomainError on the first bad field."""
    try:
        template.full_clean(exclude=["created_by", "department"])
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise DomainError(errors[0], field=None if field == "__all__" else field) from None
    return template


def reply_template_create(*, actor: User, title: str, body: str, sort_order: int = 0) -> ReplyTemplate:
    """A new active template: the head's department's own, or a global one for supervisors and admins."""
    _refuse_unless_manager(actor)
    template = ReplyTemplate(
        title=clean_text(title, missing=_("Give the template a title.")),
        body=clean_text(body, missing=_("Write the template's text.")),
        department_id=actor.department_id if actor.is_head else None,
        sort_order=sort_order,
        created_by=actor,
    )
    _validated(template).save()
    return template


def reply_template_update(
    *, actor: User, template: ReplyTemplate, title: str, body: str, sort_order: int, is_active: bool
) -> ReplyTemplate:
    """Change a template the actor may manage; its department never changes."""
    _refuse_unless_manager(actor)
    with transaction.atomic():
        locked = templates_editable_by(actor).select_for_update(of=("self",)).filter(pk=template.pk).first()
        if locked is None:
            raise DomainError(_("You may not edit this reply template."))
        locked.title = clean_text(title, missing=_("Give the template a title."))
        locked.body = clean_text(body, missing=_("Write the template's text."))
        locked.sort_order, locked.is_active = sort_order, is_active
        _validated(locked).save()
    return locked


def reply_template_deactivate(*, actor: User, template: ReplyTemplate) -> ReplyTemplate:
    """Stop offering a template in reply forms; it stays listed for its managers and can be reactivated."""
    _refuse_unless_manager(actor)
    updated = templates_editable_by(actor).filter(pk=template.pk).update(is_active=False, updated_at=timezone.now())
    if not updated:
        raise DomainError(_("You may not edit this reply template."))
    template.is_active = False
    return template
