"""Tasks (工单): assigned work with deadlines, its departments, requests and timeline."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Category, Channel, Urgency
from tasks.urgency import urgent_first


class State(models.TextChoices):
    """The lifecycle of DOMAIN.md; the rules for moving between states live in tasks.services."""

    REGISTERED = "registered", _("registered")
    REPORTED = "reported", _("reported")
    REVIEWED = "reviewed", _("reviewed")
    ASSIGNED = "assigned", _("assigned")
    ACCEPTED = "accepted", _("accepted")
    IN_PROGRESS = "in_progress", _("in progress")
    AWAITING_APPROVAL = "awaiting_approval", _("reply awaiting approval")
    REPLIED = "replied", _("replied")
    CALLED_BACK = "called_back", _("called back")
    CLOSED = "closed", _("closed")
    RETURN_REQUESTED = "return_requested", _("return requested")
    RETURNED = "returned", _("returned")
    MERGED = "merged", _("merged")


# Waiting for the supervision office to dispatch (the dispatch queue).
UNASSIGNED_STATES = (State.REGISTERED, State.REPORTED, State.REVIEWED, State.RETURNED)
# With the lead department and on its handling clock: these can be overdue. A return
# request stops the clock (DOMAIN.md), so it is not among them.
HANDLING_STATES = (State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.AWAITING_APPROVAL)
# Not finished: everything but closed and merged.
FINISHED_STATES = (State.CLOSED, State.MERGED)


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("resolved")
    EXPLAINED = "explained", _("explained")
    UNRESOLVABLE = "unresolvable", _("cannot be resolved")


class SupervisionLevel(models.IntegerChoices):
    NONE = 0, _("not supervised")
    NORMAL = 1, _("supervised")
    KEY = 2, _("key supervision")
    LISTED = 3, _("listed supervision")


class Task(models.Model):
    """A work order: one problem, one or more suggestions, one lead department."""

    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.REGISTERED)
    # Copied from the first suggestion so that lists filter on one table.
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.SUGGESTION)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    # db_index=False on township and lead_department: task_township_state_idx and
    # task_dept_state_idx lead with them, and every import pays for each index (bench/README.md).
    township = models.ForeignKey(
        "org.Township", models.PROTECT, related_name="tasks", verbose_name=_("township"), db_index=False
    )

    lead_department = models.ForeignKey(
        "org.Department",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="led_tasks",
        verbose_name=_("lead department"),
        db_index=False,
    )
    assisting_departments = models.ManyToManyField(
        "org.Department",
        through="TaskAssist",
        related_name="assisted_tasks",
        blank=True,
        verbose_name=_("assisting departments"),
    )

    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    accept_deadline = models.DateTimeField(_("acceptance deadline"), null=True, blank=True)
    deadline = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    callback_deadline = models.DateTimeField(_("callback deadline"), null=True, blank=True)
    deadline_rule = models.ForeignKey(
        "tasks.DeadlineRule", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("deadline rule")
    )
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    # The stage clock (tasks.clocks): a return request stops it until the supervisor decides.
    clock_paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    # Seconds the current department's clock stood still, all pauses since its assignment.
    paused_seconds = models.PositiveIntegerField(_("time paused (seconds)"), default=0)
    # Approved returns (退单); at RETURNS_BEFORE_ARBITRATION the supervisor arbitrates instead of assigning.
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    # The lead department named by arbitration (仲裁): it may not return the task again.
    arbitrated_department = models.ForeignKey(
        "org.Department",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead department by arbitration"),
    )

    review_note = models.TextField(_("leader's instruction"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    reply = models.TextField(_("reply"), blank=True, default="")
    supervision_level = models.PositiveSmallIntegerField(
        _("supervision"), choices=SupervisionLevel.choices, default=SupervisionLevel.NONE
    )
    redo_count = models.PositiveSmallIntegerField(_("redone"), default=0)
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged_tasks", verbose_name=_("merged into")
    )
    # A problem raised in a TV accountability episode becomes a task like any other.
    episode = models.ForeignKey(
        "tasks.TvEpisode", models.SET_NULL, null=True, blank=True, related_name="tasks", verbose_name=_("TV episode")
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # A department's workspace: its tasks by state, newest first.
            models.Index(fields=["lead_department", "state", "-id"], name="task_dept_state_idx"),
            # Overdue lists and reminders: open tasks by deadline.
            # Covering lead department and township makes "overdue by department/township"
            # an index-only scan on PostgreSQL (250 -> 20 ms at 1M rows; bench/report_card.py).
            models.Index(
                fields=["state", "deadline"], include=["lead_department", "township"], name="task_state_deadline_idx"
            ),
            # Report card "assigned" and "closed" in a period.
            models.Index(fields=["assigned_at"], name="task_assigned_idx"),
            models.Index(fields=["closed_at"], name="task_closed_idx"),
            # Open311's status=open lists: the open tasks, a small share of all (bench/open311.py).
            models.Index(fields=["id"], condition=~Q(state="closed"), name="task_open_idx"),
            # The task list's four sorts (No. and deadline, both ways) with open urgent tasks
            # first (tasks.urgency): 500-650 ms at 1M rows without them, under 1 ms with.
            # PostgreSQL sorts NULLs last ascending and first descending, as the task list's
            # ORDER BY asks; the index spells no NULLS clause, which SQLite refuses in an index.
            models.Index(urgent_first(), F("id").desc(), name="task_urgent_id_desc_idx"),
            models.Index(urgent_first(), F("id"), name="task_urgent_id_idx"),
            models.Index(
                urgent_first(), F("deadline").asc(), F("id"), name="task_urgent_deadline_idx"
            ),
            models.Index(
                urgent_first(), F("deadline").desc(), F("id").desc(),
                name="task_urgent_deadline_desc_idx",
            ),
            # The dispatch queue: unassigned tasks, oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(state__in=["registered", "reported", "reviewed", "returned"]),
                name="task_unassigned_idx",
            ),
            # The same-day targets page: tasks by registration time.
            models.Index(fields=["created_at"], name="task_created_idx"),
            # Township report cards and filters.
            models.Index(fields=["township", "state"], name="task_township_state_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def is_with_department(self) -> bool:
        return self.state in HANDLING_STATES

    def is_overdue(self, now=None) -> bool:
        """On the lead department's clock and past the handling deadline."""
        now = now or timezone.now()
        return self.state in HANDLING_STATES and self.deadline is not None and self.deadline < now

    def closed_on_time(self) -> bool | None:
        """Closed on or before the (possibly extended) handling deadline; None while open."""
        if self.state != State.CLOSED or self.closed_at is None:
            return None
        if self.deadline is None:
            return True
        return (self.replied_at or self.closed_at) <= self.deadline


class TaskAssist(models.Model):
    """协办: an assisting department with its own sub-deadline."""

    task = models.ForeignKey(Task, models.CASCADE, related_name="assists", verbose_name=_("task"))
    department = models.ForeignKey("org.Department", models.PROTECT, related_name="+", verbose_name=_("department"))
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True, default="")
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    # 签收 of the assisting part: by its own action, or implied by its reply (tasks.services.assists).
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    # The supervision office let the lead answer without this part's reply.
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("waived by")
    )
    waive_reason = models.TextField(_("reason for the waiver"), blank=True, default="")

    class Meta:
        verbose_name = _("assisting department")
        verbose_name_plural = _("assisting departments")
        constraints = [models.UniqueConstraint(fields=["task", "department"], name="assist_unique_department")]
        indexes = [
            # "Tasks my department assists with" in the workspace.
            models.Index(fields=["department", "task"], name="assist_dept_idx"),
            # Assist reminders: the parts still owing a reply, by sub-deadline.
            models.Index(
                fields=["deadline", "id"],
                condition=Q(replied_at__isnull=True, waived_at__isnull=True),
                name="assist_open_deadline_idx",
            ),
        ]

    def __str__(self):
        return f"{self.task_id} / {self.department_id}"

    @property
    def is_open(self) -> bool:
        """Still owes its reply: neither replied nor waived."""
        return self.replied_at is None and self.waived_at is None

    def is_overdue(self, now=None) -> bool:
        """Owes its reply past its sub-deadline while the task is on the lead's clock."""
        now = now or timezone.now()
        late = self.deadline is not None and self.deadline < now
        return late and self.is_open and self.task.state in HANDLING_STATES


class Action(models.TextChoices):
    """Timeline entries: one per service call that changed a task."""

    REGISTER = "register", _("registered")
    REPORT = "report", _("reported to the leader")
    REVIEW = "review", _("reviewed")
    ASSIGN = "assign", _("assigned")
    ACCEPT = "accept", _("accepted")
    PROGRESS = "progress", _("progress noted")
    REPLY = "reply", _("replied")
    APPROVE_REPLY = "approve_reply", _("reply approved")
    REJECT_REPLY = "reject_reply", _("reply sent back")
    ASSIST_ACCEPT = "assist_accept", _("assisting department accepted")
    ASSIST_REPLY = "assist_reply", _("assisting department replied")
    WAIVE_ASSIST = "waive_assist", _("assisting reply waived")
    CALLBACK = "callback", _("callback recorded")
    REDO = "redo", _("reopened for redo")
    CLOSE = "close", _("closed")
    REQUEST_RETURN = "request_return", _("return requested")
    APPROVE_RETURN = "approve_return", _("return approved")
    REFUSE_RETURN = "refuse_return", _("return refused")
    ARBITRATE = "arbitrate", _("arbitrated")
    REQUEST_EXTENSION = "request_extension", _("extension requested")
    APPROVE_EXTENSION = "approve_extension", _("extension approved")
    REFUSE_EXTENSION = "refuse_extension", _("extension refused")
    SUPERVISE = "supervise", _("supervision set")
    MERGE = "merge", _("merged")
    LOOK_BACK = "look_back", _("reopened in look-back")
    INSTRUCT = "instruct", _("leader's instruction")
    REQUEST_EXCLUSION = "request_exclusion", _("score exclusion requested")
    APPROVE_EXCLUSION = "approve_exclusion", _("score exclusion approved")
    REFUSE_EXCLUSION = "refuse_exclusion", _("score exclusion refused")


class TaskEvent(models.Model):
    """One line of a task's timeline: who did what, when, from which state to which."""

    # event_task_at_idx leads with the task.
    task = models.ForeignKey(Task, models.CASCADE, related_name="events", verbose_name=_("task"), db_index=False)
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True, default="")
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices)
    note = models.TextField(_("note"), blank=True, default="")
    # Details of the step: deadlines, departments, outcome; kept for the record, not for queries.
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        indexes = [
            # The detail page's timeline.
            models.Index(fields=["task", "at"], name="event_task_at_idx"),
        ]


class TaskRequest(models.Model):
    """延期/退单: a department asks for more time or to hand the task back; the supervisor decides."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("extension")
        RETURN = "return", _("return")

    class ReturnReason(models.TextChoices):
        """Why a department returns a task (退单); "other" needs the reason in words."""

        NOT_OUR_DUTY = "not_our_duty", _("not our department's duty")
        INCOMPLETE_INFORMATION = "incomplete_information", _("incomplete information")
        DUPLICATE = "duplicate", _("duplicate request")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    task = models.ForeignKey(Task, models.CASCADE, related_name="requests", verbose_name=_("task"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    department = models.ForeignKey("org.Department", models.PROTECT, related_name="+", verbose_name=_("department"))
    # A return's reason code (ReturnReason); blank for an extension.
    reason_code = models.CharField(
        _("reason code"), max_length=24, choices=ReturnReason.choices, blank=True, default=""
    )
    # Required for an extension and for a return of reason "other"; optional otherwise.
    reason = models.TextField(_("reason"), blank=True, default="")
    requested_deadline = models.DateTimeField(_("requested deadline"), null=True, blank=True)
    # The state a refused return resumes.
    previous_state = models.CharField(_("previous state"), max_length=20, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, default="")
    granted_deadline = models.DateTimeField(_("granted deadline"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            # Two handlers clicking at once cannot open two pending requests of one kind.
            models.UniqueConstraint(
                fields=["task", "kind"], condition=Q(status="pending"), name="request_one_pending_per_kind"
            )
        ]
        indexes = [
            # The supervisor's queue of pending requests.
            models.Index(fields=["status", "kind"], name="request_status_idx"),
        ]
