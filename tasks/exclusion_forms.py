"""Forms of 考核核减: the lead department's application and the supervisor's decision.

They validate what was typed and hand the values to tasks.services.exclusions, which
keeps the rules (and judges the evidence file by its content).
"""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tasks.models import ScoreExclusion
from tasks.projects import files
from tasks.services._base import MAX_TEXT
from tasks.services.exclusions import EVIDENCE_ACCEPT

APPROVE, REFUSE = "approve", "refuse"


class ExclusionRequestForm(forms.Form):
    button = pgettext_lazy("task action", "Apply for a score exclusion")
    success = _("The score exclusion was sent to the supervision office.")

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", "---------"), *ScoreExclusion.Reason.choices],
        error_messages={"required": _("Choose the reason for the exclusion.")},
    )
    text = forms.CharField(
        label=_("Explanation"),
        max_length=MAX_TEXT,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Explain why the task should not count in the report card.")},
    )
    evidence = forms.FileField(
        label=_("Evidence (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = _("One PNG or JPEG image or PDF document, at most %(size)s.") % {
            "size": filesizeformat(files.max_bytes())
        }

    def service_kwargs(self) -> dict:
        return {
            "reason": self.cleaned_data["reason"],
            "text": self.cleaned_data["text"],
            "evidence": self.cleaned_data.get("evidence") or None,
        }


class ExclusionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve: leave the task out of the department's figures")), (REFUSE, _("Refuse"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Approve or refuse the score exclusion.")},
    )
    note = forms.CharField(
        label=_("Note (required to refuse)"),
        required=False,
        max_length=MAX_TEXT,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == REFUSE and not cleaned.get("note"):
            self.add_error("note", _("Give the reason for refusing the score exclusion."))
        return cleaned
