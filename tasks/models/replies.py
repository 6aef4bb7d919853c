"""Reply templates (常用回复) and leaders' instructions (领导批示): fields, constraints, indexes only.

The placeholders of a template and how they are filled live in tasks.reply_templates; the
writes in tasks.services.replies and tasks.services.instructions.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["PLACEHOLDER", "PLACEHOLDERS", "LeaderInstruction", "ReplyTemplate"]

# {name}: a word in braces. Anything else in braces ({}, {a b}, {1}) is plain text.
PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
# name -> what it stands for (shown beside the template forms).
PLACEHOLDERS = {
    "citizen": _("the citizen's name in the first suggestion (masked for whoever may not see it)"),
    "township": _("the task's township"),
    "deadline": _("the handling deadline (local date; with the time for urgent tasks)"),
    "task_id": _("the task's number"),
    "department": _("the lead department"),
}


class ReplyTemplate(models.Model):
    """A standard reply (常用回复): global (no department) or one department's own."""

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(
        _("text"),
        max_length=5000,
        help_text=_("Placeholders: {citizen}, {township}, {deadline}, {task_id}, {department}."),
    )
    department = models.ForeignKey(
        "org.Department",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_templates",
        verbose_name=_("department"),
        help_text=_("Leave empty for a template every department may use."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["sort_order", "title", "id"]
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        indexes = [
            # The reply form's choice: the active global templates and the department's own.
            models.Index(
                fields=["department", "sort_order"], condition=Q(is_active=True), name="reply_template_active_idx"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_global(self) -> bool:
        return self.department_id is None

    def unknown_placeholders(self) -> list[str]:
        """The {names} in the text that are not placeholders, in order of appearance, once each."""
        return list(dict.fromkeys(n for n in PLACEHOLDER.findall(self.body or "") if n not in PLACEHOLDERS))

    def clean(self):
        unknown = self.unknown_placeholders()
        if unknown:
            raise ValidationError(
                {
                    "body": _("Unknown placeholders: %(unknown)s. Known ones: %(known)s.")
                    % {
                        "unknown": ", ".join("{%s}" % name for name in unknown),
                        "known": ", ".join("{%s}" % name for name in PLACEHOLDERS),
                    }
                }
            )


class LeaderInstruction(models.Model):
    """领导批示: a leader's instruction on a task, shown at the top of the task and sent to its lead department."""

    task = models.ForeignKey("tasks.Task", models.CASCADE, related_name="instructions", verbose_name=_("task"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("leader"))
    text = models.TextField(_("instruction"), max_length=5000)
    created_at = models.DateTimeField(_("given at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("leader's instruction")
        verbose_name_plural = _("leaders' instructions")
        indexes = [
            # The task page: its instructions, newest first.
            models.Index(fields=["task", "-created_at"], name="instruction_task_idx"),
        ]

    def __str__(self):
        return f"{self.task_id} {self.created_at:%Y-%m-%d %H:%M}"
