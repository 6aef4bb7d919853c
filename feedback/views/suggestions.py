"""The suggestion list, its exports, a suggestion's page, and the registrar's form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2 import LazyPaginator

from feedback import privacy, selectors
from feedback.exports import csv_response, xlsx_response
from feedback.filters import SuggestionFilter, filtered
from feedback.forms import SuggestionRegisterForm
from feedback.models import PhoneView, Suggestion
from feedback.services import REGISTER_ROLES
from feedback.tables import SuggestionListTable, suggestion_export

PER_PAGE = 25
# The list's own parameters, which an export link does not carry.
PAGING_PARAMS = ("page", "sort")


def _suggestion_for(request, pk) -> Suggestion:
    """The suggestion if the user may read it, else 404 (its existence is not revealed)."""
    suggestion = selectors.suggestion_detail(request.user, pk)
    if suggestion is None:
        raise Http404
    return suggestion


def _filter(request) -> SuggestionFilter:
    rows = selectors.suggestion_list(request.user)
    data = request.GET.copy()
    for key in PAGING_PARAMS:
        data.pop(key, None)
    return SuggestionFilter(data or None, queryset=rows, request=request)


@login_required
@require_GET
def suggestion_list(request):
    """The suggestions the user may read, filtered and searched, newest first; no total is counted."""
    filterset = _filter(request)
    table = SuggestionListTable(filtered(filterset))
    rows = _sort_and_page(table, request)
    table.in_full = selectors.citizens_in_full(
        request.user, ((s.pk, s.task_id, s.task.lead_department_id, s.registered_by_id) for s in rows)
    )
    first = (table.page.number - 1) * PER_PAGE + 1
    export_query = filterset.data.urlencode() if filterset.is_bound else ""
    context = {
        "filter": filterset,
        "table": table,
        "now": timezone.now(),
        "first_row": first,
        "last_row": first + len(rows) - 1,
        "has_more": table.page.has_next(),
        "filtered": filterset.is_bound,
        "export_query": export_query,
    }
    return render(request, "feedback/list.html", context)


def _sort_and_page(table, request) -> list:
    """Apply ?sort= and ?page= and return the page's rows, evaluated.

    LazyPaginator fetches one row more than a page instead of counting all of them; a page
    past the end shows the first page.
    """
    table.request = request
    sort = request.GET.getlist(table.prefixed_order_by_field)
    if sort:
        table.order_by = sort
    try:
        page = int(request.GET.get(table.prefixed_page_field, 1))
    except ValueError:
        page = 1
    try:
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=page)
    except (EmptyPage, PageNotAnInteger):
        table.paginate(LazyPaginator, per_page=PER_PAGE, page=1)
    return [row.record for row in table.page.object_list]


def _export(request, page):
    filterset = _filter(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    tally = privacy.ExportTally(
        user=request.user, page=page, query=request.GET.urlencode(), address=privacy.client_address(request)
    )
    return suggestion_export(filtered(filterset), request.user, tally=tally), f"{_('suggestions')}-{stamp}"


@login_required
@require_GET
def suggestion_export_csv(request):
    """The list with its filters as CSV (UTF-8 with BOM), streamed; phones unmasked only where allowed, and logged."""
    export, name = _export(request, PhoneView.Page.EXPORT_CSV)
    return csv_response(export, name)


@login_required
@require_GET
def suggestion_export_xlsx(request):
    """The list with its filters as an .xlsx workbook; phones unmasked only where allowed, and logged."""
    export, name = _export(request, PhoneView.Page.EXPORT_XLSX)
    return xlsx_response(export, name, sheet_title=_("suggestions"))


@login_required
@require_GET
def suggestion_detail(request, pk):
    """One suggestion: its intake facts, the citizen (masked unless the user works on it), its task and duplicates."""
    suggestion = _suggestion_for(request, pk)
    user = request.user
    merged = selectors.suggestions_merged_with(suggestion)
    lead = suggestion.task.lead_department_id
    in_full = selectors.citizens_in_full(
        user, ((s.pk, s.task_id, lead, s.registered_by_id) for s in [suggestion, *merged])
    )
    openable = selectors.visible_ids(user, (s.pk for s in merged))
    context = {
        "suggestion": suggestion,
        "task": suggestion.task,
        "task_visible": selectors.task_visible(user, suggestion.task_id),
        "in_full": suggestion.pk in in_full,
        "merged": [{"suggestion": s, "in_full": s.pk in in_full, "openable": s.pk in openable} for s in merged],
    }
    return render(request, "feedback/detail.html", context)


@login_required
def suggestion_register(request):
    """The registrar's form: on success the suggestion's page, with its tracking number in a message."""
    if request.user.role not in REGISTER_ROLES:
        raise PermissionDenied(_("Only registrars and supervisors may register suggestions."))
    form = SuggestionRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        suggestion = form.save(actor=request.user)
        if suggestion is not None:
            messages.success(
                request,
                _("Registered. The tracking number is %(tracking)s.") % {"tracking": suggestion.tracking_number},
            )
            return redirect("feedback:detail", pk=suggestion.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "feedback/register.html", {"form": form}, status=status)
