"""Django admin for reply templates (any department's or global) and leaders' instructions (read-only)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import LeaderInstruction, ReplyTemplate


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """The model's clean() refuses unknown placeholders, here as on the heads' page."""

    list_display = ("title", "scope", "is_active", "sort_order", "updated_at")
    list_filter = ("is_active", ("department", admin.RelatedOnlyFieldListFilter))
    list_editable = ("is_active", "sort_order")
    list_select_related = ("department",)
    search_fields = ("title", "body")
    fields = ("title", "body", "department", "is_active", "sort_order", "created_by", "updated_at")
    readonly_fields = ("created_by", "updated_at")

    @admin.display(description=_("department"), ordering="department__sort_order")
    def scope(self, obj):
        return obj.department.name if obj.department_id else _("all departments")

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LeaderInstruction)
class LeaderInstructionAdmin(admin.ModelAdmin):
    """Instructions are given on the task page (tasks.services.instructions): here they are only read."""

    list_display = ("task", "author", "created_at")
    list_select_related = ("task", "author")
    raw_id_fields = ("task",)
    search_fields = ("text",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
