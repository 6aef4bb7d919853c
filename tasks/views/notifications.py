"""The notification centre (/tasks/notifications/): the user's own reminders, newest first, and marking them read.

Reminders (tasks.reminders) write the notifications; this page only reads and marks the
user's own. Another user's notification answers 404, like another department's task.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tasks import dispatch_selectors as selectors
from tasks.context_processors import UnreadCount
from tasks.models.reminders import Notification

from .dispatch import paginate


def notification_mark_read(*, user, notification_id: int, now: dt.datetime | None = None) -> bool:
    """Mark one of the user's notifications read; False if it was read already; DoesNotExist if not theirs."""
    own = Notification.objects.filter(recipient=user, pk=notification_id)
    if own.filter(read_at__isnull=True).update(read_at=now or timezone.now()):
        return True
    if not own.exists():
        raise Notification.DoesNotExist
    return False


def notifications_mark_all_read(*, user, through_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Mark the user's unread notifications read, up to `through_id` (the newest the page showed); one UPDATE."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if through_id is not None:
        # A reminder that arrived after the page was drawn was not seen: it stays unread.
        unread = unread.filter(pk__lte=through_id)
    return unread.update(read_at=now or timezone.now())


@login_required
@require_GET
def notification_list(request):
    """The user's notifications, newest first, unread ones highlighted; ?unread=1 shows only those."""
    unread_only = request.GET.get("unread") == "1"
    page = paginate(request, selectors.notifications_for(request.user, unread_only=unread_only))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "tasks/notifications.html", {
        "now": timezone.now(),
        "page": page,
        "unread_only": unread_only,
        "query": query.urlencode(),
        "through_id": max((n.pk for n in page.object_list), default=None),
        # Also given by the context processor; set here so the page works without it.
        "unread_notifications": UnreadCount(request.user),
    })


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read, then go back to the page it was marked on."""
    try:
        notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request):
    """Mark every unread notification read (up to the newest one the page showed)."""
    through = request.POST.get("through", "")
    count = notifications_mark_all_read(user=request.user, through_id=int(through) if through.isdigit() else None)
    messages.success(request, ngettext(
        "%(count)d notification marked read.", "%(count)d notifications marked read.", count) % {"count": count})
    return _back(request)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("tasks:notifications")


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notification_read, name="notification_read"),
    path("notifications/read-all/", notifications_read_all, name="notifications_read_all"),
]
