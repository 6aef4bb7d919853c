"""Report cards (成绩单) of the city, a department or a township: the page, its print layout and its PDF.

The page and the PDF render the same template body (reports/_card_body.html) from the
same context (`card_context`), which the `report_card --format pdf` command uses too.
"""

from __future__ import annotations

import dataclasses

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from org.models import Department, Township
from tasks.reportcards import (
    Card,
    Comparison,
    Period,
    Scope,
    ScopeError,
    city,
    for_department,
    for_township,
    report_card,
    report_card_compared,
    reportcard_home_scope,
    reportcard_rankings_visible_to,
    units_average,
)
from tasks.reportcards.scopes import CITY, DEPARTMENT, find_department, find_township

from tasks.tables import task_detail_url

from . import data
from .common import SOURCE_LABELS, as_of_text, count_text, figure_rows, period_choice, records_url, require_card, resolve_source
from .sections import project_rows, trend_section


def _comparison_for(card: Card, *, now) -> Comparison:
    """The comparison around an already counted card (the command's), from the same source."""
    previous = report_card(card.scope, card.period.previous(), now=now, source=card.source)
    previous = dataclasses.replace(previous, overdue=None)  # overdue is "now": no previous figure
    average = None if card.scope.kind == CITY else units_average(card.scope.kind, card.period, now=now, source=card.source)
    return Comparison(card, previous, average)


def card_context(scope: Scope, period: Period, *, now=None, source=None, card: Card | None = None) -> dict:
    """The card's figures against the previous period and the average unit, its trend, overdue list and projects."""
    now = now or timezone.now()
    if card is not None:
        comparison = _comparison_for(card, now=now)
        source = card.source
    else:
        source = source or resolve_source()
        comparison = report_card_compared(scope, period, now=now, source=source)
    current = comparison.current
    department = scope.department if scope.kind == DEPARTMENT else None
    average_label = {DEPARTMENT: _("average department"), CITY: ""}.get(scope.kind, _("average township"))
    return {
        "scope": scope,
        "period": period,
        "card": current,
        "previous": comparison.previous,
        "average": comparison.average,
        "average_label": average_label,
        "figures": figure_rows(current, previous=comparison.previous, average=comparison.average),
        "trend": trend_section(scope, period, source=source),
        "overdue_rows": _overdue_rows(scope, now),
        "overdue_total": current.overdue,
        "overdue_total_text": count_text(current.overdue),
        "overdue_href": records_url("overdue", scope, period),
        "overdue_limit": data.OVERDUE_LIMIT,
        "projects": project_rows(data.projects_progress(period, department_id=department.pk)) if department else None,
        "as_of": as_of_text(current),
        "source_label": SOURCE_LABELS[current.source],
        "from_rollups": current.source != "live",
        "now": now,
        "title": _("Report card: %(unit)s, %(period)s") % {"unit": scope.label, "period": period.label},
        "pdf_url": _pdf_url(scope, period),
    }


def _overdue_rows(scope: Scope, now) -> list[dict]:
    """The bounded overdue list with each task's link and whole days past its deadline."""
    today = timezone.localdate(now)
    rows = []
    for task in data.overdue_tasks(scope, now=now):
        days = (today - timezone.localdate(task.deadline)).days
        rows.append({"task": task, "url": task_detail_url(task), "days": days if days > 0 else "<1"})
    return rows


def _pdf_url(scope: Scope, period: Period) -> str:
    if scope.kind == DEPARTMENT:
        path = reverse("reports:department_card_pdf", args=[scope.department.code])
    elif scope.kind == CITY:
        path = reverse("reports:city_card_pdf")
    else:
        path = reverse("reports:township_card_pdf", args=[scope.township.pk])
    return f"{path}?period={period.code}"


# --- Finding the scope from the URL ------------------------------------------------------


def _department_scope(code: str) -> Scope:
    """The department named in the URL (code, name or short name), else 404."""
    try:
        department = find_department(code)
    except ScopeError:
        raise Http404(_("No such department.")) from None
    if department.kind == Department.Kind.SUPERVISION:
        raise Http404(_("The supervision office has no report card."))
    return for_department(department)


def _township_scope(key: str) -> Scope:
    """The township named in the URL by id, name or short name, else 404."""
    if key.isdigit():
        township = Township.objects.filter(pk=int(key)).first()
    else:
        try:
            township = find_township(key)
        except ScopeError:
            township = None
    if township is None:
        raise Http404(_("No such township."))
    return for_township(township)


# --- Views ---------------------------------------------------------------------------------


def _card_page(request, scope: Scope, *, pdf: bool = False):
    require_card(request.user, scope)
    choice = period_choice(request.GET)
    if pdf:
        if choice.error:
            return HttpResponse(choice.error, status=400, content_type="text/plain; charset=utf-8")
        from tasks.reportcards.pdf import render_pdf  # noqa: PLC0415  (WeasyPrint loads only for PDFs)

        context = card_context(scope, choice.period)
        body = render_pdf(context["card"], context=context, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_filename(scope, choice.period)}"'
        return response
    context = card_context(scope, choice.period)
    context.update(choice=choice, perms_overview=reportcard_rankings_visible_to(request.user))
    return render(request, "reports/card.html", context, status=choice.status)


def pdf_filename(scope: Scope, period: Period) -> str:
    """An ASCII file name: report-card-zhujian-2021-Q3.pdf."""
    unit = {DEPARTMENT: lambda: scope.department.code, CITY: lambda: "city"}.get(
        scope.kind, lambda: f"township-{scope.township.pk}"
    )()
    return f"report-card-{unit}-{period.code.replace('..', '_')}.pdf"


@login_required
@require_GET
def card_index(request):
    """/reports/department/: a head goes to the own department's card; leaders choose among every card."""
    home = reportcard_home_scope(request.user)
    if home is None:
        raise PermissionDenied(_("Report cards are for leaders, the supervision office and department heads."))
    if home.kind == DEPARTMENT:
        target = reverse("reports:department_card", args=[home.department.code])
        return redirect(f"{target}?{request.GET.urlencode()}" if request.GET else target)
    choice = period_choice(request.GET)
    departments = Department.objects.exclude(kind=Department.Kind.SUPERVISION).filter(is_active=True)
    return render(request, "reports/index.html", {
        "choice": choice,
        "period": choice.period,
        "departments": list(departments.order_by("sort_order", "pk")),
        "townships": list(Township.objects.order_by("sort_order", "pk")),
        "show_overview": reportcard_rankings_visible_to(request.user),
    }, status=choice.status)


@login_required
@require_GET
def department_card(request, code):
    return _card_page(request, _department_scope(code))


@login_required
@require_GET
def department_card_pdf(request, code):
    return _card_page(request, _department_scope(code), pdf=True)


@login_required
@require_GET
def township_card(request, key):
    return _card_page(request, _township_scope(key))


@login_required
@require_GET
def township_card_pdf(request, key):
    return _card_page(request, _township_scope(key), pdf=True)


@login_required
@require_GET
def city_card(request):
    return _card_page(request, city())


@login_required
@require_GET
def city_card_pdf(request):
    return _card_page(request, city(), pdf=True)
