"""Forms of the feedback app: validation, then a call to a service."""

import os

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.importers.background import import_job_create
from org.models import Township, Village
from tasks.errors import DomainError

from .models import Category, Channel, Suggestion, Urgency
from .services import suggestion_register
from .validators import normalize_phone

IMPORT_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("An .xlsx workbook or a CSV file (UTF-8 or GBK) laid out as the template."),
    )
    sheet = forms.CharField(
        label=gettext_lazy("Sheet"), required=False, max_length=64,
        help_text=gettext_lazy("The sheet to import; blank for the first."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = os.path.splitext(upload.name)[1].lower()
        if extension not in IMPORT_EXTENSIONS:
            raise forms.ValidationError(
                _("%(name)s is not a spreadsheet: upload an .xlsx or .csv file.") % {"name": upload.name}
            )
        return upload

    def save(self, *, actor):
        """The import job, or None with the refusal added to the form's errors."""
        try:
            return import_job_create(
                actor=actor, upload=self.cleaned_data["file"], sheet=self.cleaned_data.get("sheet", "")
            )
        except DomainError as exc:
            self.add_error("file" if exc.field == "file" else None, str(exc))
            return None


class VillageSelect(forms.Select):
    """A select of villages whose options name their township (data-township), for the page's filter script."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-township"] = instance.township_id
        return option


class VillageField(forms.ModelChoiceField):
    def label_from_instance(self, village):
        # The township in the label too: without JavaScript all villages share one list.
        return f"{village.name}（{village.township.name}）"


def _now_to_the_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class SuggestionRegisterForm(forms.Form):
    """Register one suggestion: the fields of DOMAIN.md's intake, then suggestion_register."""

    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Channel.choices)
    received_at = forms.DateTimeField(
        label=gettext_lazy("Received at"),
        initial=_now_to_the_minute,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    citizen_name = forms.CharField(label=gettext_lazy("Citizen's name"), max_length=64, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Phone"), max_length=32, required=False,
        help_text=gettext_lazy("A mobile (13812345678) or a landline with its area code (0312-1234567)."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    township = forms.ModelChoiceField(
        label=gettext_lazy("Township"), queryset=Township.objects.order_by("sort_order", "id"),
        empty_label=gettext_lazy("choose…"),
    )
    village = VillageField(
        label=gettext_lazy("Village or community"), required=False,
        queryset=Village.objects.select_related("township").order_by("township__sort_order", "township_id", "id"),
        widget=VillageSelect, empty_label="—",
    )
    content = forms.CharField(
        label=gettext_lazy("Content"), max_length=Suggestion.MAX_CONTENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Category.choices, initial=Category.SUGGESTION)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    external_id = forms.CharField(
        label=gettext_lazy("External number"), max_length=64, required=False,
        help_text=gettext_lazy("The number the hotline or message board gave it, if any."),
    )

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(str(exc), code="invalid_phone") from exc

    def clean(self):
        cleaned = super().clean()
        township, village = cleaned.get("township"), cleaned.get("village")
        if township is not None and village is not None and village.township_id != township.pk:
            self.add_error(
                "village", _("%(village)s is not in %(township)s.") % {"village": village.name, "township": township}
            )
        return cleaned

    def save(self, *, actor) -> Suggestion | None:
        """The registered suggestion, or None with the service's refusal added to the form's errors."""
        try:
            return suggestion_register(actor=actor, **self.cleaned_data)
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
            return None
