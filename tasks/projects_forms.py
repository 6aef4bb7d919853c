"""Forms of the project and TV accountability pages: validate what the user typed, then hand it to a service.

Each form's `service_kwargs()` is what its service receives; the service keeps the rules
(who may, date order, file type and size) and raises DomainError, which the view shows
on the field it names.
"""

from decimal import Decimal

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Category, Urgency
from org.models import Department, Township
from tasks.models.projects import AccountabilitySuggestion, Project, TvEpisode
from tasks.projects import files
from tasks.projects.status import ProjectStatus
from tasks.services._base import MAX_TEXT


def _text(label, *, required: bool, rows: int = 2, max_length: int = MAX_TEXT) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, strip=True, widget=forms.Textarea(attrs={"rows": rows})
    )


def _date(label, *, required: bool = True, initial=None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        error_messages={"invalid": _("Enter a valid date, for example 2021-11-30.")},
        # ISO values, as <input type="date"> sends and expects whatever the language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the type and size checks are the service's (by content)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": files.ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _handling_departments():
    return Department.objects.filter(is_active=True).exclude(kind=Department.Kind.SUPERVISION)


# --- Projects -------------------------------------------------------------------------


class ProjectFilterForm(forms.Form):
    """The project list's filters; a value that makes no sense is an error, not ignored."""

    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    department = forms.ModelChoiceField(label=_("Department"), required=False, queryset=Department.objects.none())
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", "—"), *ProjectStatus.choices])

    def __init__(self, *args, years, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "—")] + [(year, str(year)) for year in years]
        if user.sees_all_departments:
            self.fields["department"].queryset = Department.objects.filter(
                pk__in=Project.objects.values("department_id")
            ).order_by("sort_order", "pk")
        else:
            del self.fields["department"]


class ProgressForm(forms.Form):
    """A progress update: its date, a new value per indicator (blank keeps it), a note and evidence files."""

    recorded_on = _date(_("Date"))
    note = _text(_("Note (optional)"), required=False, rows=2)
    evidence = MultipleFileField(label=_("Evidence (optional)"), required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["recorded_on"].initial = timezone.localdate()
        self.indicators = list(project.indicators.all())
        for indicator in self.indicators:
            self.fields[f"indicator_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name}（{indicator.unit}）",
                required=False,
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                initial=_plain(indicator.current),
                help_text=_("target %(target)s") % {"target": _number(indicator.target)},
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )
        self.fields["evidence"].help_text = _(
            "Photos (JPEG, PNG, WebP) or PDF documents, at most %(count)d files of %(size)s each."
        ) % {"count": files.MAX_FILES, "size": filesizeformat(files.max_bytes())}

    def indicator_fields(self):
        return [self[f"indicator_{indicator.pk}"] for indicator in self.indicators]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "recorded_on": data["recorded_on"],
            "note": data.get("note", ""),
            "values": {i.pk: data.get(f"indicator_{i.pk}") for i in self.indicators},
            "evidence": data.get("evidence") or [],
        }


def _plain(value: Decimal) -> Decimal:
    """137.00 as 137 in the input, 12.50 as it is."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _number(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


# --- TV accountability episodes --------------------------------------------------------


class EpisodeForm(forms.Form):
    aired_on = _date(_("Aired on"))
    title = forms.CharField(label=_("Title"), max_length=128)
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments questioned"),
        queryset=Department.objects.none(),
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = _handling_departments()
        self.fields["departments"].widget.attrs["size"] = 8

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class _EpisodeActionForm(forms.Form):
    """Base of the forms on an episode's page: the episode's questioned departments to choose from."""

    def __init__(self, *args, episode: TvEpisode, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode, self.user = episode, user
        if "department" in self.fields:
            self.fields["department"].queryset = episode.departments.order_by("sort_order", "pk")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ProblemForm(_EpisodeActionForm):
    department = forms.ModelChoiceField(
        label=_("Department questioned"), queryset=Department.objects.none(),
        error_messages={"required": _("Choose the department.")},
    )
    township = forms.ModelChoiceField(
        label=_("Township"), required=False, queryset=Township.objects.all(),
        help_text=_("Blank for a township office's own area."),
    )
    content = _text(_("Problem raised"), required=True, rows=3, max_length=5000)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.COMPLAINT)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    deadline = _date(_("Deadline date (optional)"), required=False)
    note = _text(_("Note to the department (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deadline"].help_text = _("Blank for the deadline rule of the category.")

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return value


class MechanismForm(_EpisodeActionForm):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(),
        error_messages={"required": _("Choose the department.")},
    )
    title = forms.CharField(label=_("Mechanism"), max_length=200)
    established_on = _date(_("Established on"))
    document = forms.FileField(
        label=_("Document (optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": files.ACCEPT}),
        help_text=_("A PDF document or an image."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user.is_department_staff:
            self.fields["department"].queryset = Department.objects.filter(pk=self.user.department_id)
            self.fields["department"].initial = self.user.department_id
        else:
            self.fields["department"].queryset = Department.objects.filter(
                pk__in=self.episode.departments.values("pk")
            ).order_by("sort_order", "pk")
        self.fields["established_on"].initial = timezone.localdate()


class AccountabilityForm(_EpisodeActionForm):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(),
        error_messages={"required": _("Choose the department.")},
    )
    task = forms.IntegerField(
        label=_("Task number (optional)"), required=False, min_value=1,
        help_text=_("One of this episode's problems, if the suggestion is about one."),
    )
    text = _text(_("Suggestion to the discipline commission"), required=True, rows=3)

    def clean_task(self):
        pk = self.cleaned_data["task"]
        if pk is None:
            return None
        task = self.episode.tasks.filter(pk=pk).first()
        if task is None:
            raise forms.ValidationError(_("Task #%(id)s is not a problem of this episode.") % {"id": pk})
        return task


class AccountabilityDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("The commission's answer"),
        choices=[
            (status.value, status.label)
            for status in AccountabilitySuggestion.Status
            if status != AccountabilitySuggestion.Status.SUBMITTED
        ],
        widget=forms.RadioSelect,
    )
    note = _text(_("Note (optional)"), required=False)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


__all__ = [
    "AccountabilityDecisionForm",
    "AccountabilityForm",
    "EpisodeForm",
    "MechanismForm",
    "ProblemForm",
    "ProgressForm",
    "ProjectFilterForm",
]
