"""Django admin for the organisation: townships, villages, departments and users (the admin role)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Department, Township, User, Village


class VillageInline(admin.TabularInline):
    model = Village
    extra = 0
    fields = ("name", "kind")


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "kind", "sort_order", "village_count")
    list_editable = ("sort_order",)
    list_filter = ("kind",)
    search_fields = ("name", "short_name")
    inlines = [VillageInline]

    def get_queryset(self, request):
        # One query for the list, not one count per township.
        return super().get_queryset(request).annotate(_village_count=Count("villages"))

    @admin.display(description=_("villages and communities"), ordering="_village_count")
    def village_count(self, obj):
        return obj._village_count


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ("name", "township", "kind")
    list_filter = ("township", "kind")
    list_select_related = ("township",)
    search_fields = ("name", "township__name", "township__short_name")
    list_per_page = 100


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "township", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("kind", "is_active")
    list_select_related = ("township",)
    search_fields = ("name", "code")


class _DepartmentRoleMixin:
    """Handlers and department heads must belong to a department: say so on the field."""

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in User.DEPARTMENT_ROLES and not cleaned.get("department"):
            self.add_error("department", _("Handlers and department heads must belong to a department."))
        return cleaned


class UserCreationForm(_DepartmentRoleMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "role", "department", "phone")


class UserEditForm(_DepartmentRoleMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("username", "full_name", "role", "department", "phone", "is_active", "is_staff", "last_login")
    list_filter = ("role", "department", "is_active", "is_staff", "is_superuser")
    list_select_related = ("department",)
    search_fields = ("username", "full_name", "phone", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Role and department"), {"fields": ("role", "department")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "email", "first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username", "full_name", "role", "department", "phone",
                    "usable_password", "password1", "password2",
                ),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        # The admin role is the one that runs this site (DOMAIN.md: users, departments,
        # calendars). Only a change of role grants or revokes it, so editing the phone of
        # a superuser created by createsuperuser (role registrar) does not demote them.
        if not change or "role" in form.changed_data:
            is_admin = obj.role == User.Role.ADMIN
            if is_admin or change:
                obj.is_staff = obj.is_superuser = is_admin
        super().save_model(request, obj, form, change)

