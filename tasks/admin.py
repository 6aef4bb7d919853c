"""Django admin for tasks: the working-day calendar, deadline rules, tasks (read-mostly), projects, TV episodes.

Tasks change through tasks.services only (the lifecycle's rules live there), so the task
pages here show everything and let an admin fix only the title, township and episode.
Lists join what they show (list_select_related) and never render a dropdown of 61,000 tasks.
"""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from feedback.models import Suggestion

from . import calendar
from .models import (
    CalendarDay,
    LookBackSample,
    Notification,
    ReminderDigest,
    ReminderRule,
    DeadlineRule,
    Indicator,
    Mechanism,
    Project,
    Task,
    TaskAssist,
    TaskEvent,
    TaskRequest,
    TvEpisode,
)

# --- Calendar ------------------------------------------------------------------------


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = {d.year for d in CalendarDay.objects.dates("date", "year")}
        years.update(calendar.years_without_official_calendar())
        return [(str(y), str(y)) for y in sorted(years, reverse=True)]

    def queryset(self, request, queryset):
        if self.value():
            try:
                return queryset.filter(date__year=int(self.value()))
            except ValueError:
                return queryset.none()
        return queryset


def calendar_notices() -> list[str]:
    """One line for each year that lacks an official calendar (this year, next year, and years with entries)."""
    years = {d.year for d in CalendarDay.objects.dates("date", "year")}
    years.update(calendar.years_without_official_calendar())
    missing = calendar.years_without_official_calendar(sorted(years))
    entered = calendar.admin_weekdays_off(missing)
    return [
        gettext(
            "%(year)s: no official holiday calendar; only weekends and your entries count "
            "(%(count)s weekdays entered as days off; a full holiday notice has at least %(minimum)s)."
        )
        % {"year": year, "count": entered[year], "minimum": calendar.MIN_WEEKDAYS_OFF_FOR_A_YEAR}
        for year in missing
    ]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_working_day", "note", "official")
    list_display_links = ("date",)
    list_editable = ("is_working_day", "note")
    list_filter = (YearFilter, "is_working_day")
    date_hierarchy = "date"
    search_fields = ("note",)
    list_per_page = 100

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return formats.date_format(obj.date, "l")

    @admin.display(description=_("official calendar"))
    def official(self, obj):
        if obj.date.year not in calendar.official_years():
            return gettext("none for this year")
        if calendar.is_official_working_day(obj.date):
            return gettext("working day")
        return gettext("day off")

    def changelist_view(self, request, extra_context=None):
        years = sorted(calendar.official_years())
        extra_context = {
            **(extra_context or {}),
            "calendar_notices": calendar_notices(),
            "official_range": f"{years[0]}–{years[-1]}" if years else "",
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = (
        "category",
        "urgency",
        "channel",
        "accept_amount",
        "accept_unit",
        "handle_amount",
        "handle_unit",
        "callback_amount",
        "callback_unit",
    )
    list_display_links = ("category",)
    list_editable = (
        "accept_amount",
        "accept_unit",
        "handle_amount",
        "handle_unit",
        "callback_amount",
        "callback_unit",
    )
    list_filter = ("category", "urgency", "channel")


# --- Tasks (read-mostly) -------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    related_select: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related_select)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TaskEventInline(_ReadOnlyInline):
    model = TaskEvent
    fields = ("at", "action", "from_state", "to_state", "actor", "note")
    related_select = ("actor",)


class TaskAssistInline(_ReadOnlyInline):
    model = TaskAssist
    fields = ("department", "deadline", "accepted_at", "replied_at", "reply", "waived_at", "waive_reason")
    related_select = ("department",)


class TaskRequestInline(_ReadOnlyInline):
    model = TaskRequest
    fields = (
        "kind", "status", "department", "reason_code", "reason", "requested_by", "requested_at", "decided_by",
        "granted_deadline",
    )
    related_select = ("department", "requested_by", "decided_by")


class SuggestionInline(_ReadOnlyInline):
    model = Suggestion
    # No citizen's name, phone or content (feedback.admin.PERSONAL_FIELDS): not the admin role's business.
    fields = ("tracking_number", "channel", "received_at", "township", "category", "urgency")
    related_select = ("township",)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "state",
        "lead_department",
        "township",
        "category",
        "urgency",
        "deadline",
        "assigned_at",
    )
    list_display_links = ("id", "title")
    list_filter = (
        "state", "lead_department", "urgency", "category", "channel", "supervision_level", "township", "episode"
    )
    list_select_related = ("lead_department", "township")
    search_fields = ("title",)
    search_help_text = _("Task number, tracking number (DZ…) or words of the title.")
    # Counting 61,000+ rows twice per page (filtered and unfiltered) is wasted work.
    show_full_result_count = False
    raw_id_fields = ("episode",)
    editable_fields = ("title", "township", "episode")
    inlines = [SuggestionInline, TaskAssistInline, TaskRequestInline, TaskEventInline]

    def get_readonly_fields(self, request, obj=None):
        editable = set(self.editable_fields)
        fields = [f.name for f in Task._meta.concrete_fields if not f.primary_key and f.name not in editable]
        return fields + ["assisting_departments"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        if term.upper().startswith("DZ"):
            # A subquery, not a join: no DISTINCT over the whole task list.
            ids = Suggestion.objects.filter(tracking_number=term.upper()).values("task_id")
            return queryset.filter(pk__in=ids), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        # Tasks are opened by registering a suggestion (feedback.services), never here.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Projects and TV accountability -------------------------------------------------


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ("name", "unit", "baseline", "target", "current", "due_on")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "year", "starts_on", "due_on", "indicator_count")
    list_filter = ("year", "department")
    list_select_related = ("department",)
    search_fields = ("name",)
    inlines = [IndicatorInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_indicator_count=Count("indicators"))

    @admin.display(description=_("indicators"), ordering="_indicator_count")
    def indicator_count(self, obj):
        return obj._indicator_count


class MechanismInline(admin.TabularInline):
    model = Mechanism
    extra = 0
    fields = ("title", "department", "established_on")


@admin.register(TvEpisode)
class TvEpisodeAdmin(admin.ModelAdmin):
    list_display = ("aired_on", "title", "department_count", "mechanism_count", "tasks_link")
    date_hierarchy = "aired_on"
    search_fields = ("title",)
    filter_horizontal = ("departments",)
    inlines = [MechanismInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _department_count=Count("departments", distinct=True),
                _mechanism_count=Count("mechanisms", distinct=True),
            )
        )

    @admin.display(description=_("departments questioned"), ordering="_department_count")
    def department_count(self, obj):
        return obj._department_count

    @admin.display(description=_("long-term mechanisms"), ordering="_mechanism_count")
    def mechanism_count(self, obj):
        return obj._mechanism_count

    @admin.display(description=_("problems raised"))
    def tasks_link(self, obj):
        url = reverse("admin:tasks_task_changelist") + f"?episode__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("tasks"))


# --- Reminders ------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes: admins look, never edit by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    """The reminder policy (DOMAIN.md): which levels are sent, when, and to whom."""

    list_display = ("level", "is_active", "days", "to_handlers", "to_head", "to_supervisors", "to_leaders")
    list_editable = ("is_active", "days", "to_handlers", "to_head", "to_supervisors", "to_leaders")
    list_display_links = ("level",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "task", "level", "deadline", "read_at")
    list_filter = ("level",)
    list_select_related = ("recipient", "task")
    raw_id_fields = ("recipient", "task", "digest")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ReminderDigest)
class ReminderDigestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient", "sent_at", "attempts", "given_up", "last_error")
    list_filter = ("kind", "given_up")
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient", "department")
    show_full_result_count = False


@admin.register(LookBackSample)
class LookBackSampleAdmin(ReadOnlyAdmin):
    list_display = ("task", "draw", "checked_at", "checked_by", "outcome")
    list_filter = ("outcome",)
    list_select_related = ("task", "draw", "checked_by")
    raw_id_fields = ("task", "draw", "checked_by")


# Reply templates and leaders' instructions register themselves.
from . import admin_replies  # noqa: E402,F401
