"""django-filter classes of the suggestion list and its exports.

Every filter narrows a queryset already scoped to the user (selectors.suggestions_visible_to),
so no filter value can reach a suggestion outside the scope.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from org.models import Township
from tasks.filters import IndexedDateRangeFilter, TownshipFilter
from tasks.models import State

from . import selectors
from .models import Category, Channel, Urgency


class SuggestionFilter(django_filters.FilterSet):
    """Search, channel, township, category, urgency, received date range and the task's state."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 路灯 暖气, or a tracking number")}),
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("all"))
    township = TownshipFilter(
        label=_("Township"), queryset=Township.objects.order_by("sort_order", "id"), empty_label=_("all")
    )
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices, empty_label=_("all"))
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices, empty_label=_("all"))
    # distinct=False: one column of the joined task; DISTINCT over the wide rows would sort them all.
    state = django_filters.MultipleChoiceFilter(
        label=_("Task state"),
        field_name="task__state",
        choices=State.choices,
        distinct=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    # received_at has its own index; an old range also bounds the id walk on PostgreSQL.
    received = IndexedDateRangeFilter(
        label=_("Received between"),
        field_name="received_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    def filter_search(self, queryset, name, value):
        return selectors.suggestions_matching(queryset, value)


def filtered(filterset: SuggestionFilter):
    """The filtered rows; a filter value that makes no sense gives no rows (its error is shown), not rows ignoring it."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs
