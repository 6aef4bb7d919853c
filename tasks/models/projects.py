"""Practical-task projects (实事项目) and TV accountability episodes (电视问政)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
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

    @property
    def is_done(self) -> bool:
        """The target is reached (a target not above the baseline counts as reached, as in progress_percent)."""
        return self.target <= self.baseline or self.current >= self.target

    def days_elapsed(self, today) -> tuple[int, int]:
        """(days elapsed, days in all) from the project's start to this indicator's deadline; elapsed within 0..all."""
        total = max((self.due_on - self.project.starts_on).days, 1)
        return min(max((today - self.project.starts_on).days, 0), total), total

    def expected_percent(self, today) -> float:
        """Where the indicator should be today if progress kept pace with time: elapsed share of its span, 0–100."""
        elapsed, total = self.days_elapsed(today)
        return elapsed * 100 / total

    def is_behind(self, today) -> bool:
        """Not done, and less progress than time elapsed (compared exactly: gain × days in all < span × elapsed).

        tasks.projects.status computes the same comparison in the database for lists and totals.
        """
        if self.is_done:
            return False
        elapsed, total = self.days_elapsed(today)
        return (self.current - self.baseline) * total < (self.target - self.baseline) * elapsed


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
    # The mechanism's document (image or PDF), checked like evidence and served by a view.
    document = models.FileField(_("document"), upload_to="mechanisms/%Y/", max_length=200, blank=True)
    document_name = models.CharField(_("document name"), max_length=255, blank=True, default="")
    document_type = models.CharField(_("document type"), max_length=64, blank=True, default="")

    class Meta:
        ordering = ["established_on", "id"]
        verbose_name = _("long-term mechanism")
        verbose_name_plural = _("long-term mechanisms")

    def __str__(self):
        return self.title


# --- Progress updates and their evidence ------------------------------------------------


class ProgressUpdate(models.Model):
    """A dated progress report on a project: new current values of some indicators, a note, evidence files."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="updates", verbose_name=_("project"))
    recorded_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        indexes = [
            # A project's updates newest first, its last update date, and the staleness check.
            models.Index(fields=["project", "-recorded_on", "-id"], name="progress_project_date_idx"),
        ]

    def __str__(self):
        return f"{self.project_id} {self.recorded_on}"


class ProgressValue(models.Model):
    """One indicator's value in a progress update, with the value it replaced."""

    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="values", verbose_name=_("update"))
    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="values", verbose_name=_("indicator"))
    previous = models.DecimalField(_("previous value"), max_digits=14, decimal_places=2)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["update_id", "indicator_id"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [models.UniqueConstraint(fields=["update", "indicator"], name="progress_value_once")]


class Evidence(models.Model):
    """A file (image or PDF) proving a progress update; served only through the permission-checking view."""

    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="evidence", verbose_name=_("update"))
    # Stored by tasks.projects.files under a random name with the extension of the detected type.
    file = models.FileField(_("file"), upload_to="evidence/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    # Detected from the file's first bytes, not from its name or the browser's claim.
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["update_id", "id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


# --- TV accountability: suggestions to the discipline commission ----------------------


class AccountabilitySuggestion(models.Model):
    """问责建议: the supervision office proposes that the discipline commission hold a department to account."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted to the discipline commission")
        ACCEPTED = "accepted", _("accepted by the commission")
        DECLINED = "declined", _("declined by the commission")

    episode = models.ForeignKey(
        TvEpisode, models.CASCADE, related_name="accountability_suggestions", verbose_name=_("episode")
    )
    department = models.ForeignKey("org.Department", models.PROTECT, related_name="+", verbose_name=_("department"))
    task = models.ForeignKey(
        "tasks.Task", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("task")
    )
    text = models.TextField(_("suggestion"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, default="")

    class Meta:
        ordering = ["episode_id", "id"]
        verbose_name = _("accountability suggestion")
        verbose_name_plural = _("accountability suggestions")

    def __str__(self):
        return f"{self.department_id} {self.get_status_display()}"


# --- Stale projects: the reminder claim and the in-app notice ---------------------------


class ProjectReminderClaim(models.Model):
    """The right to remind about one project for one staleness period: whoever inserts the row sends.

    A project last updated on `stale_since` reaches period 1 after 30 days without an
    update, period 2 after 60, and so on; a new update gives a new `stale_since`.
    """

    # No index of its own: the unique constraint below starts with the project.
    project = models.ForeignKey(
        Project, models.CASCADE, related_name="reminder_claims", db_index=False, verbose_name=_("project")
    )
    stale_since = models.DateField(_("last update"))
    period = models.PositiveSmallIntegerField(_("staleness period"))
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("stale-project reminder")
        verbose_name_plural = _("stale-project reminders")
        constraints = [
            models.UniqueConstraint(fields=["project", "stale_since", "period"], name="project_reminder_once"),
        ]

    def __str__(self):
        return f"{self.project_id} {self.stale_since} #{self.period}"


class ProjectNotice(models.Model):
    """An in-app reminder to one handler or head: the project has had no progress update for `idle_days`."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="project_notices", verbose_name=_("recipient")
    )
    project = models.ForeignKey(Project, models.CASCADE, related_name="notices", verbose_name=_("project"))
    claim = models.ForeignKey(
        ProjectReminderClaim, models.CASCADE, related_name="notices", verbose_name=_("reminder")
    )
    idle_days = models.PositiveIntegerField(_("days without an update"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stale-project notice")
        verbose_name_plural = _("stale-project notices")
        indexes = [
            # "My unread project reminders" on the project list.
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(read_at__isnull=True), name="project_notice_unread_idx"
            ),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.project_id}"
