"""Django admin for API keys: create (the key is shown once), revoke, change the rate limit, read each key's log."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tasks.errors import DomainError

from . import services
from .models import ApiKey, ApiKeyUse


class ApiKeyCreationForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "channel", "rate_limit", "note")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ApiKey.objects.filter(name=name, is_active=True).exists():
            raise forms.ValidationError(_("%(name)s already has an active key; revoke it first.") % {"name": name})
        return name


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "key_lookup", "channel", "rate_limit", "is_active", "created_at", "revoked_at", "log")
    list_filter = ("is_active", "channel")
    search_fields = ("name", "=key_lookup")
    actions = ["revoke"]
    readonly_fields = ("key_lookup", "is_active", "account", "created_at", "created_by", "revoked_at", "revoked_by")

    def get_queryset(self, request):
        # One query for the list, not one count per key.
        return super().get_queryset(request).annotate(_uses=Count("uses"))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "channel", "rate_limit", "note"]
        return ["name", "key_lookup", "channel", "rate_limit", "note", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("name", *self.readonly_fields)

    def has_delete_permission(self, request, obj=None):
        # A key that created requests is their record; revoke it instead.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = services.api_key_create(
            name=obj.name, channel=obj.channel, rate_limit=obj.rate_limit, note=obj.note, actor=request.user
        )
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding, obj._state.db = False, key._state.db
        messages.warning(
            request,
            format_html(
                "{} <code id='new-api-key'>{}</code>",
                _("The new key, shown only now (only its hash is stored): give it to the system's operator."),
                raw,
            ),
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(is_active=True):
            try:
                services.api_key_revoke(name=key.name, actor=request.user)
                revoked += 1
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        self.message_user(
            request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked) % {"count": revoked}
        )

    @admin.display(description=gettext_lazy("requests created"), ordering="_uses")
    def log(self, obj):
        url = reverse("admin:open311_apikeyuse_changelist") + f"?api_key__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj._uses)


@admin.register(ApiKeyUse)
class ApiKeyUseAdmin(admin.ModelAdmin):
    """The log: which key created which suggestion, when and from which address. Read-only."""

    list_display = ("created_at", "api_key", "tracking_number", "client_address", "token")
    list_filter = ("api_key",)
    list_select_related = ("api_key", "suggestion")
    search_fields = ("=suggestion__tracking_number", "=token")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("tracking number"), ordering="suggestion__tracking_number")
    def tracking_number(self, obj):
        url = reverse("admin:feedback_suggestion_change", args=[obj.suggestion_id])
        return format_html('<a href="{}">{}</a>', url, obj.suggestion.tracking_number)
