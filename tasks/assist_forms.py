"""Forms of the assisting parts (协办) on the detail page; the rules stay in tasks.services.assists."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.models import Department

from .forms import ActionForm, _OptionalNote, _text


class AssistAcceptForm(_OptionalNote):
    button = pgettext_lazy("task action", "Accept as assisting department")
    success = _("Your department accepted its assisting part.")
    primary = True


class WaiveAssistForm(ActionForm):
    """The supervisor lets the lead answer without one assisting department's reply."""

    button = pgettext_lazy("task action", "Waive an assisting reply")
    success = _("The assisting reply was waived; the lead department may reply as resolved without it.")
    department = forms.ModelChoiceField(
        label=_("Assisting department"),
        queryset=Department.objects.none(),
        error_messages={"required": _("Choose the assisting department whose reply is waived.")},
    )
    reason = _text(_("Reason"), required=True, missing=_("Give the reason for waiving the assisting reply."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the parts still owing a reply (served by the page's prefetch of the assists).
        owed = [assist.department_id for assist in self.task.assists.all() if assist.is_open]
        self.fields["department"].queryset = Department.objects.filter(pk__in=owed).order_by("sort_order", "pk")
