"""Django admin for suggestions and callbacks: read-mostly, since both enter through the services.

A suggestion is registered (and its task opened) by feedback.services; a callback is
recorded by the lifecycle. Here an admin finds them by tracking number and may correct the
village. The citizen's name and phone and the content are not shown: the admin role runs
the site (users, departments, calendars, reminder policy) and has no business with the
citizens' personal data (README "Personal data"); the people who work on the item see it in
the application, where showing a phone is logged.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Callback, PhoneView, Suggestion

# Never shown in the Django admin (SuggestionAdmin, the task's suggestion inline).
PERSONAL_FIELDS = ("citizen_name", "phone", "content")
# Derived from the content: its bigrams spell the content out, so they are hidden with it.
HIDDEN_FIELDS = (*PERSONAL_FIELDS, "content_bigrams")


class _TrackingNumberSearch:
    def get_search_results(self, request, queryset, search_term):
        # Tracking numbers are stored upper-case; people type them any way.
        term = search_term.strip()
        if term[:2].upper() == "DZ":
            term = term.upper()
        return super().get_search_results(request, queryset, term)


def _task_link(task_id):
    if task_id is None:
        return "—"
    url = reverse("admin:tasks_task_change", args=[task_id])
    return format_html('<a href="{}">#{}</a>', url, task_id)


@admin.register(Suggestion)
class SuggestionAdmin(_TrackingNumberSearch, admin.ModelAdmin):
    list_display = ("tracking_number", "channel", "received_at", "township", "category", "urgency", "task_link")
    list_filter = ("channel", "category", "urgency", "township")
    list_select_related = ("township",)
    # Exact matches on indexed columns: instant at 61,000+ rows, unlike icontains. No search by
    # phone: it would tell an admin whose number is behind which suggestion.
    search_fields = ("=tracking_number", "=external_id")
    search_help_text = _("Tracking number or external number (exact).")
    show_full_result_count = False
    raw_id_fields = ("task", "village", "registered_by")
    editable_fields = ("village",)
    exclude = HIDDEN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return [
            f.name for f in Suggestion._meta.concrete_fields
            if f.name not in self.editable_fields and f.name not in HIDDEN_FIELDS
        ]  # fmt: skip

    @admin.display(description=_("task"), ordering="task_id")
    def task_link(self, obj):
        return _task_link(obj.task_id)

    def has_add_permission(self, request):
        # Registering opens a task and writes its timeline: feedback.services does that.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Callback)
class CallbackAdmin(_TrackingNumberSearch, admin.ModelAdmin):
    list_display = ("called_at", "task_link", "suggestion", "result", "called_by")
    list_filter = ("result",)
    list_select_related = ("suggestion", "called_by")
    search_fields = ("=suggestion__tracking_number",)
    search_help_text = _("Tracking number (exact).")
    show_full_result_count = False
    date_hierarchy = "called_at"
    raw_id_fields = ("task", "suggestion", "called_by")
    readonly_fields = ("task", "suggestion", "result", "called_at", "called_by")

    @admin.display(description=_("task"), ordering="task_id")
    def task_link(self, obj):
        return _task_link(obj.task_id)

    def has_add_permission(self, request):
        # A callback moves its task on (or reopens it): the lifecycle service records it.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PhoneView)
class PhoneViewAdmin(admin.ModelAdmin):
    """Who was shown which citizen's phone, when, from which page; exports with their count. Read-only, admins only."""

    list_display = ("at", "user", "page", "tracking_number", "task_link", "count", "address")
    list_filter = ("page", ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user",)
    date_hierarchy = "at"
    search_fields = ("=tracking_number", "=user__username")
    search_help_text = _("Tracking number or user name (exact).")
    show_full_result_count = False
    fields = ("at", "user", "page", "suggestion", "tracking_number", "task", "count", "query", "address")
    readonly_fields = fields

    @admin.display(description=_("task"), ordering="task_id")
    def task_link(self, obj):
        return _task_link(obj.task_id)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_admin_role and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_admin_role and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
