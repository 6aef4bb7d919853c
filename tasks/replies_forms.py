"""Forms of the reply templates page and of a leader's instruction on the task page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ReplyTemplate
from .services._base import MAX_TEXT


class ReplyTemplateForm(forms.ModelForm):
    """Title, text, order and (when editing) active; the model's clean() reports unknown placeholders."""

    class Meta:
        model = ReplyTemplate
        fields = ("title", "body", "sort_order", "is_active")
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # A new template is active; deactivating is a step of its own.
            del self.fields["is_active"]

    def service_kwargs(self) -> dict:
        return {key: self.cleaned_data[key] for key in self.fields}


class InstructionForm(forms.Form):
    """A leader's instruction (批示) on a task."""

    text = forms.CharField(
        label=_("Instruction"),
        max_length=MAX_TEXT,
        strip=True,
        error_messages={"required": _("Write the instruction.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
