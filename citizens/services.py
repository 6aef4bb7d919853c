"""Writes from the public pages: an online message (网络留言) enters the normal registration queue."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.models import Category, Channel, Suggestion
from feedback.services import suggestion_register
from org.models import Township, User, Village

PORTAL_USERNAME = "system-portal"


def system_account(*, username: str, full_name: str) -> User:
    """An account that registers what arrives without a registrar; inactive with no password, so nobody logs in as it."""
    account = User.objects.filter(username=username).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = User(username=username, full_name=full_name, role=User.Role.REGISTRAR, is_active=False)
            account.set_unusable_password()
            account.save()
            return account
    except IntegrityError:
        # Two first messages at once: the other request created it.
        return User.objects.get(username=username)


def portal_account() -> User:
    """The registrar of record for messages left on the city portal."""
    return system_account(username=PORTAL_USERNAME, full_name="政府网站留言")


def message_submit(
    *,
    content: str,
    township: Township,
    village: Village | None = None,
    category: str = Category.SUGGESTION,
    citizen_name: str = "",
    phone: str = "",
    now: dt.datetime | None = None,
) -> Suggestion:
    """Register a citizen's online message (channel 政府网站) as a suggestion with a tracking number."""
    now = now or timezone.now()
    return suggestion_register(
        actor=portal_account(), channel=Channel.PORTAL, received_at=now, township=township, village=village,
        content=content, category=category, citizen_name=citizen_name, phone=phone, now=now,
    )
