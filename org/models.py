"""The organisation of DOMAIN.md: townships, villages, departments, and the people in them."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Township(models.Model):
    """A township-level unit: street office (街道), town (镇) or township (乡)."""

    class Kind(models.TextChoices):
        STREET = "street", _("street office")
        TOWN = "town", _("town")
        TOWNSHIP = "township", _("township")

    name = models.CharField(_("name"), max_length=32, unique=True)
    # The name without its suffix (南城区 for 南城区街道, 留早 for 留早镇): accepted on import and search.
    short_name = models.CharField(_("short name"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("township")
        verbose_name_plural = _("townships")

    def __str__(self):
        return self.name


class Village(models.Model):
    """A village (村) or community (社区) under a township."""

    class Kind(models.TextChoices):
        VILLAGE = "village", _("village")
        COMMUNITY = "community", _("community")

    township = models.ForeignKey(Township, models.PROTECT, related_name="villages", verbose_name=_("township"))
    name = models.CharField(_("name"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.VILLAGE)

    class Meta:
        ordering = ["township_id", "id"]
        verbose_name = _("village or community")
        verbose_name_plural = _("villages and communities")
        constraints = [models.UniqueConstraint(fields=["township", "name"], name="village_unique_name_in_township")]

    def __str__(self):
        return self.name


class Department(models.Model):
    """A unit that handles tasks (单位/部门), or the supervision office that dispatches them."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("functional department")
        UTILITY = "utility", _("utility")
        TOWNSHIP = "township", _("township office")
        SUPERVISION = "supervision", _("supervision office")

    name = models.CharField(_("name"), max_length=64, unique=True)
    # A stable ASCII key used in URLs, demo accounts (head-zhujian) and the CLI.
    code = models.SlugField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FUNCTIONAL)
    # Township offices handle the work of their own area.
    township = models.OneToOneField(
        Township, models.PROTECT, null=True, blank=True, related_name="office", verbose_name=_("township")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A person who logs in, with one role and (for handlers and heads) one department."""

    class Role(models.TextChoices):
        REGISTRAR = "registrar", _("registrar")
        HANDLER = "handler", _("handler")
        HEAD = "head", _("department head")
        SUPERVISOR = "supervisor", _("supervisor")
        LEADER = "leader", _("leader")
        ADMIN = "admin", _("administrator")

    # Roles that work inside one department and must therefore have one.
    DEPARTMENT_ROLES = (Role.HANDLER, Role.HEAD)

    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REGISTRAR)
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("department")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["handler", "head"]) | Q(department__isnull=False),
                name="user_department_role_has_department",
            )
        ]

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or self.username

    @property
    def is_department_staff(self) -> bool:
        return self.role in self.DEPARTMENT_ROLES

    @property
    def is_head(self) -> bool:
        return self.role == self.Role.HEAD

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR

    @property
    def is_leader(self) -> bool:
        return self.role == self.Role.LEADER

    @property
    def is_registrar(self) -> bool:
        return self.role == self.Role.REGISTRAR

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def sees_all_departments(self) -> bool:
        """Supervisors and leaders read every department's work.

        Not admins, nor superusers: DOMAIN.md gives the admin role users, departments, calendars
        and reminder policy, not the citizens' suggestions or the tasks made from them (least
        privilege for personal data; README "Personal data").
        """
        return self.role in (self.Role.SUPERVISOR, self.Role.LEADER)

    def works_for(self, department_id) -> bool:
        """True when this user is a handler or head of that department."""
        return self.is_department_staff and department_id is not None and self.department_id == department_id
