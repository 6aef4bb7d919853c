"""Citizens' phone numbers: who may see one unmasked, and the log of every time someone did.

Pages show every phone masked (138****5678). Whoever may see a citizen in full (they work
on the task, or registered the suggestion themselves: selectors.citizens_in_full) gets a
"show" button; pressing it is a POST that writes one PhoneView row and answers the number.
Showing a number is thus a deliberate act, and the log holds exactly the numbers people
looked at, not every opening of a task page. Exports give unmasked numbers to the same
people, row by row, and write one PhoneView per export with the number of phones it held.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from ops.proxy import client_ip
from tasks.errors import DomainError

from . import selectors
from .models import PhoneView, Suggestion

Page = PhoneView.Page
QUERY_LENGTH = PhoneView._meta.get_field("query").max_length


def may_see_citizen(user, suggestion: Suggestion) -> bool:
    """The user may see this suggestion's citizen unmasked (works on its task, or registered it)."""
    lead = suggestion.task.lead_department_id
    row = (suggestion.pk, suggestion.task_id, lead, suggestion.registered_by_id)
    return suggestion.pk in selectors.citizens_in_full(user, [row])


def phone_view_record(
    *, user, suggestion: Suggestion, page: str, address: str | None = None, now: dt.datetime | None = None
) -> PhoneView:
    """Log that `user` is shown the suggestion's unmasked phone from `page`; refused if they may not see it."""
    # Page.ADMIN stays a choice for the log's older rows: the Django admin no longer shows phones.
    if page not in (Page.TASK_DETAIL, Page.SUGGESTION_DETAIL):
        raise DomainError(_("Unknown page."))
    if not may_see_citizen(user, suggestion):
        raise DomainError(_("Only those who work on this item may see the citizen's phone number."))
    if not suggestion.phone:
        raise DomainError(_("No phone number was given for this suggestion."))
    return PhoneView.objects.create(
        user=user,
        at=now or timezone.now(),
        page=page,
        suggestion=suggestion,
        task_id=suggestion.task_id,
        tracking_number=suggestion.tracking_number,
        count=1,
        address=address or None,
    )


def phone_export_record(
    *, user, page: str, count: int, query: str = "", address: str | None = None, now: dt.datetime | None = None
) -> PhoneView | None:
    """Log an export that held `count` unmasked phone numbers (one row per export); nothing when it held none."""
    if page not in PhoneView.EXPORTS:
        raise DomainError(_("Unknown page."))
    if count <= 0:
        return None
    return PhoneView.objects.create(
        user=user, at=now or timezone.now(), page=page, count=count, query=query[:QUERY_LENGTH], address=address or None
    )


class ExportTally:
    """Counts the unmasked phones an export writes, batch by batch, and logs them once when it ends.

    `finish()` runs after the export's last batch, or when the download is cut short (then
    it counts the batches read so far: numbers that may have reached the user).
    """

    def __init__(self, *, user, page: str, query: str = "", address: str | None = None):
        self.user, self.page, self.query, self.address = user, page, query, address
        self.count = 0
        self.logged = None

    def add(self, count: int) -> None:
        self.count += count

    def finish(self) -> None:
        if self.logged is None:
            self.logged = phone_export_record(
                user=self.user, page=self.page, count=self.count, query=self.query, address=self.address
            ) or False


def client_address(request) -> str | None:
    """The address the request came from (behind the proxy, the one it saw: ops.proxy.client_ip)."""
    return client_ip(request) or None
