"""Practical-task projects (实事项目) and TV accountability episodes (电视问政)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Project(models.Model):
    """A promised project owned by one department, measured by its indicators."""

    department = models.ForeignKey(
        "org.Department", models.PROTECT, related_name="projects", verbose_name=_("department")
    )
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True, default="")
    year = models.PositiveSmallIntegerField(_("year"))
    starts_on = models.DateField(_("starts on"))
    due_on = models.DateField(_("due on"))

    class Meta:
        ordering = ["year", "id"]
        verbose_name = _("practical-task project")
        verbose_name_plural = _("practical-task projects")
        constraints = [models.UniqueConstraint(fields=["year", "name"], name="project_unique_name_per_year")]

    def __str__(self):
        return self.name


class Indicator(models.Model):
    """A measurable target of a project: 100 compounds renovated, 456 street lamps."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="indicators", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=128)
    unit = models.CharField(_("unit"), max_length=16)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, default=0)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    current = models.DecimalField(_("current value"), max_digits=14, decimal_places=2, default=0)
    due_on = models.DateField(_("deadline"))

    class Meta:
        ordering = ["project_id", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="indicator_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.unit})"

    @property
    def progress_percent(self) -> float:
        """Share of the way from baseline to target, 0–100."""
        span = self.target - self.baseline
        if span <= 0:
            return 100.0
        return float(max(0, min(100, (self.current - self.baseline) * 100 / span)))


class TvEpisode(models.Model):
    """An episode of the TV accountability show: departments questioned, problems raised."""

    aired_on = models.DateField(_("aired on"), unique=True)
    title = models.CharField(_("title"), max_length=128)
    departments = models.ManyToManyField(
        "org.Department", related_name="tv_episodes", blank=True, verbose_name=_("departments questioned")
    )

    class Meta:
        ordering = ["aired_on"]
        verbose_name = _("TV accountability episode")
        verbose_name_plural = _("TV accountability episodes")

    def __str__(self):
        return self.title


class Mechanism(models.Model):
    """A long-term mechanism (长效机制) a department set up after an episode."""

    episode = models.ForeignKey(TvEpisode, models.CASCADE, related_name="mechanisms", verbose_name=_("episode"))
    department = models.ForeignKey("org.Department", models.PROTECT, related_name="+", verbose_name=_("department"))
    title = models.CharField(_("title"), max_length=200)
    established_on = models.DateField(_("established on"))

    class Meta:
        ordering = ["established_on", "id"]
        verbose_name = _("long-term mechanism")
        verbose_name_plural = _("long-term mechanisms")

    def __str__(self):
        return self.title
