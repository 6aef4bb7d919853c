"""django-filter classes of the task pages: presentation of the filters, the queries stay cheap.

Every filter narrows a queryset that is already scoped to the user (tasks_visible_to), so
no filter value can show another department's task. Each one maps onto an index of Task
(see its Meta) or onto a walk of the id index newest first.
"""

import datetime as dt

import django_filters
from django import forms
from django.db import connections
from django.db.models import F, Func, Q, Subquery
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
        self._found = found[0]
        return found[0]

    def prepare_value(self, value):
        # ?township=留早 must show 留早镇 as chosen in the select, whose options carry ids.
        found = getattr(self, "_found", None)
        if found is not None and isinstance(value, str) and value.strip() in (found.name, found.short_name):
            return found.pk
        return super().prepare_value(value)


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


class IndexedDateRangeFilter(django_filters.DateFromToRangeFilter):
    """A date range on an indexed time column; on PostgreSQL, an old range also gets its id range.

    The list is walked newest id first, and the planner assumes the rows of a range are
    spread evenly over the ids. For a range that ends long ago (last March) it therefore
    walks everything newer first: 0.4 s at a million tasks. When the range has an end and
    PostgreSQL estimates it small (MAX_BOUNDED_ROWS), two aggregates over the column's own
    index bound the walk to the range's ids: 10 ms for a month. A range open towards now
    needs no bound (its rows are the newest), and a huge one would cost more to bound than
    to walk. `id + 0` keeps PostgreSQL from turning MAX(id) back into the same walk. The
    bounds are conditions the rows meet anyway: they never change the result.
    """

    MAX_BOUNDED_ROWS = 50_000

    def filter(self, qs, value):
        narrowed = super().filter(qs, value)
        if not value or value.stop is None or connections[qs.db].vendor != "postgresql":
            return narrowed
        bounds = {f"{self.field_name}__lte": value.stop}
        if value.start is not None:
            bounds[f"{self.field_name}__gte"] = value.start
        in_range = qs.model._default_manager.using(qs.db).filter(**bounds).order_by()
        if _estimated_rows(in_range) > self.MAX_BOUNDED_ROWS:
            return narrowed
        plus_zero = F("id") + 0
        return narrowed.filter(
            pk__gte=Subquery(in_range.values(low=Func(plus_zero, function="MIN"))),
            pk__lte=Subquery(in_range.values(high=Func(plus_zero, function="MAX"))),
        )


def _estimated_rows(queryset) -> float:
    """PostgreSQL's estimate of the rows a queryset returns, from its statistics (no rows read)."""
    sql, params = queryset.values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        return float(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])


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
    # created_at has no index of its own: its range walks the ids (fast for recent ranges).
    assigned = IndexedDateRangeFilter(
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
