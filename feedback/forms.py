"""Forms of the feedback app: validation, then a call to a service."""

import os

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.importers.background import import_job_create
from tasks.errors import DomainError

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
