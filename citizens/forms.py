"""The public forms: the progress lookup and the online message, each validated on the server."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import Category, Suggestion
from feedback.validators import validate_phone
from org.models import Township
from tasks.errors import DomainError

from . import services
from .selectors import TRACKING_NUMBER, normalize_tracking_number


class LookupForm(forms.Form):
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "DZ20211025K7QW3M9X"}),
    )
    phone_last_four = forms.CharField(
        label=gettext_lazy("Last four digits of your phone number"), min_length=4, max_length=4,
        validators=[RegexValidator(r"^\d{4}$", gettext_lazy("Enter four digits."))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": r"\d{4}"}),
        help_text=gettext_lazy("Of the phone number you gave when you left the message."),
    )

    def clean_tracking_number(self):
        number = normalize_tracking_number(self.cleaned_data["tracking_number"])
        if not TRACKING_NUMBER.fullmatch(number):
            raise forms.ValidationError(
                _("Enter the tracking number as it was given to you: DZ, the date and eight letters, "
                  "for example DZ20211025K7QW3M9X.")
            )
        return number


class MessageForm(forms.Form):
    """网络留言: content and township are required, name and phone optional; `website` is a honeypot."""

    content = forms.CharField(
        label=gettext_lazy("Your message"), max_length=Suggestion.MAX_CONTENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=gettext_lazy("What happened, where exactly, and since when."),
    )
    township = forms.ModelChoiceField(
        label=gettext_lazy("Township or street office"), queryset=Township.objects.all(),
        empty_label=gettext_lazy("Choose…"),
    )
    category = forms.ChoiceField(label=gettext_lazy("Kind of message"), choices=Category.choices,
                                 initial=Category.SUGGESTION)
    citizen_name = forms.CharField(label=gettext_lazy("Your name (optional)"), max_length=64, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Phone (optional)"), max_length=30, required=False, validators=[validate_phone],
        help_text=gettext_lazy("Needed to look up the progress online: you will be asked for its last four digits."),
    )
    # Hidden from people by the stylesheet; a bot filling every field fills this one too.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError(_("Your message could not be accepted."), code="honeypot")
        return cleaned

    @property
    def caught_by_honeypot(self) -> bool:
        return any(e.code == "honeypot" for e in self.errors.as_data().get("__all__", []))

    def save(self) -> Suggestion | None:
        """The registered suggestion, or None with the refusal added to the form's errors."""
        data = self.cleaned_data
        try:
            return services.message_submit(
                content=data["content"], township=data["township"], category=data["category"],
                citizen_name=data["citizen_name"], phone=data["phone"],
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
            return None
