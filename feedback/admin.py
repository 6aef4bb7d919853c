"""Django admin for suggestions and callbacks: read-mostly, since both enter through the services.

A suggestion is registered (and its task opened) by feedback.services; a callback is
recorded by the lifecycle. Here an admin finds them, by tracking number above all, and
may correct a citizen's contact details or a typo in the content.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Callback, Suggestion


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
    # Exact matches on indexed columns: instant at 61,000+ rows, unlike icontains.
    search_fields = ("=tracking_number", "=external_id", "=phone")
    search_help_text = _("Tracking number, external number or phone number (exact).")
    show_full_result_count = False
    raw_id_fields = ("task", "village", "registered_by")
    editable_fields = ("citizen_name", "phone", "village", "content")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Suggestion._meta.concrete_fields if f.name not in self.editable_fields]

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
