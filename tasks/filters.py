"""django-filter classes of the task pages: presentation of the filters, the queries stay cheap.

Every filter narrows a queryset that is already scoped to the user (tasks_visible_to), so
no filter value can show another department's task. Each one maps onto an index of Task
(see its Meta) or onto a walk of the id index newest first.
"""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Category, Channel, Urgency
from org.models import Department, Township

from . import calendar, search
from .models import HANDLING_STATES, State, TaskAssist


class TownshipField(forms.ModelChoiceField):
    """A township by id (the select), or by its full or short name typed into a URL (留早镇 or 留早)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        match = Q(name=text) | Q(short_name=text)
        if text.isdigit():
            match |= Q(pk=int(text))
        found = list(self.queryset.filter(match)[:2])
        if len(found) != 1:
            raise forms.ValidationError(_("Unknown township: %(value)s."), code="invalid_choice", params={"value": text})
        return found[0]


class TownshipFilter(django_filters.ModelChoiceFilter):
    field_class = TownshipField


class DueFilter(django_filters.ChoiceFilter):
    """Where the handling deadline stands at `now`; only tasks on a department's clock have one that counts."""

    DUE_TODAY, DUE_SOON, OVERDUE = "due_today", "due_soon", "overdue"
    CHOICES = [
        (DUE_TODAY, _("due today")),
        (DUE_SOON, _("due by the end of the next working day")),
        (OVERDUE, _("overdue")),
    ]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", self.CHOICES)
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        now = self.parent.now
        on_clock = queryset.filter(state__in=HANDLING_STATES)
        if value == self.OVERDUE:
            return on_clock.filter(deadline__lt=now)
        today = timezone.localdate(now)
        if value == self.DUE_TODAY:
            return on_clock.filter(deadline__gte=now, deadline__lte=calendar.end_of_day(today))
        # The reminders' "due soon" (临期) level: the deadline falls by the end of the next
        # working day, so on a Friday it reaches to Monday evening (or past a holiday).
        return on_clock.filter(deadline__gte=now, deadline__lte=calendar.end_of_day(calendar.next_working_day(today)))


class TaskFilter(django_filters.FilterSet):
    """The task list's filters; `request` decides which ones the user gets, `now` the deadline filters."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 路灯 暖气, or a tracking number")}),
    )
    # distinct=False: the filter is one column of one table, and SELECT DISTINCT over the
    # list's wide rows would make PostgreSQL sort every matching row before the first page.
    state = django_filters.MultipleChoiceFilter(
        label=_("State"), choices=State.choices, distinct=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    due = DueFilter(label=_("Deadline"), empty_label=_("any"))
    involvement = django_filters.ChoiceFilter(
        label=_("My department"),
        choices=[("lead", _("leads")), ("assist", _("assists"))],
        method="filter_involvement",
        empty_label=_("leads or assists"),
    )
    lead_department = django_filters.ModelChoiceFilter(
        label=_("Lead department"),
        queryset=Department.objects.exclude(kind=Department.Kind.SUPERVISION).order_by("sort_order", "id"),
        empty_label=_("all"),
    )
    township = TownshipFilter(label=_("Township"), queryset=Township.objects.order_by("sort_order", "id"), empty_label=_("all"))
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("all"))
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices, empty_label=_("all"))
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices, empty_label=_("all"))
    supervised = django_filters.BooleanFilter(
        label=_("Under supervision"), method="filter_supervised", widget=forms.CheckboxInput
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Registered between"),
        field_name="created_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    assigned = django_filters.DateFromToRangeFilter(
        label=_("Assigned between"),
        field_name="assigned_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    def __init__(self, data=None, queryset=None, *, request=None, now: dt.datetime | None = None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.now = now or timezone.now()
        user = request.user if request is not None else None
        # Department staff see only their department's tasks: a department choice would only
        # ever narrow to their own; whether they lead or assist is the useful question.
        if user is None or not user.sees_all_departments:
            del self.filters["lead_department"]
        if user is None or not user.is_department_staff:
            del self.filters["involvement"]
        self.user = user

    def filter_search(self, queryset, name, value):
        return search.tasks_matching(queryset, value)

    def filter_supervised(self, queryset, name, value):
        return queryset.filter(supervision_level__gte=1) if value else queryset

    def filter_involvement(self, queryset, name, value):
        department_id = self.user.department_id
        if value == "lead":
            return queryset.filter(lead_department_id=department_id)
        if value == "assist":
            assisted = TaskAssist.objects.filter(department_id=department_id).values("task_id")
            return queryset.filter(pk__in=assisted)
        return queryset
