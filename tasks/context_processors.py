"""Template context for every page: the signed-in user's unread notification count, for the header badge.

Add "tasks.context_processors.unread_notifications" to TEMPLATES' context_processors and
include "includes/unread_badge.html" in the header. The count runs only when a template
reads it (a page without the badge costs nothing), once per request however often it is
read, and stops at UNREAD_CAP + 1 so it costs the same for 3 unread as for 300,000.
"""

from django.utils.functional import cached_property

from .dispatch_selectors import UNREAD_CAP, unread_notification_count


class UnreadCount:
    """The user's unread notifications, counted on first use: `value` (an int) and `display` ("99+" beyond the cap)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def value(self) -> int:
        return unread_notification_count(self.user, cap=UNREAD_CAP)

    @property
    def display(self) -> str:
        return f"{UNREAD_CAP}+" if self.value > UNREAD_CAP else str(self.value)

    def __bool__(self) -> bool:
        return self.value > 0

    def __str__(self) -> str:
        return self.display


def unread_notifications(request) -> dict:
    """{"unread_notifications": UnreadCount} for a signed-in user; nothing for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": UnreadCount(user)}
