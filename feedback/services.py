"""Writes on suggestions: registering one opens its task."""

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from org.models import Township, User, Village
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent
from tasks.services.rules import check_role

from .models import Category, Channel, Suggestion, Urgency
from .validators import normalize_phone

REGISTER_ROLES = (User.Role.REGISTRAR, User.Role.SUPERVISOR)
TITLE_LENGTH = 40
_SPACES = re.compile(r"\s+")


def task_title(content: str) -> str:
    """The first ~40 characters of the content on one line, with an ellipsis when cut."""
    line = _SPACES.sub(" ", content).strip()
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


def _choice(value, choices, label) -> str:
    if value not in choices.values:
        raise DomainError(_("Unknown %(field)s: %(value)s.") % {"field": label, "value": value})
    return value


def _received_at(value, *, now) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value if timezone.is_aware(value) else timezone.make_aware(value)
    elif isinstance(value, dt.date):
        when = timezone.make_aware(dt.datetime.combine(value, dt.time()))
    else:
        raise DomainError(_("Give the time the suggestion was received."), field="received_at")
    if when > now:
        raise DomainError(
            _("The received time %(value)s is in the future.")
            % {"value": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")},
            field="received_at",
        )
    return when


def _short(value, *, max_length, field, label) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise DomainError(
            _("The %(field)s is too long: %(length)d characters, at most %(max)d.")
            % {"field": label, "length": len(text), "max": max_length},
            field=field,
        )
    return text


def suggestion_register(
    *,
    actor: User,
    channel: str,
    received_at: dt.datetime,
    township: Township,
    content: str,
    category: str = Category.SUGGESTION,
    urgency: str = Urgency.NORMAL,
    village: Village | None = None,
    citizen_name: str = "",
    phone: str = "",
    external_id: str = "",
    now: dt.datetime | None = None,
) -> Suggestion:
    """Register one suggestion (登记): it opens a registered task and gets a tracking number."""
    now = now or timezone.now()
    check_role(gettext_lazy("register suggestions"), REGISTER_ROLES, actor)
    channel = _choice(channel, Channel, _("channel"))
    category = _choice(category, Category, _("category"))
    urgency = _choice(urgency, Urgency, _("urgency"))
    received_at = _received_at(received_at, now=now)
    if township is None:
        raise DomainError(_("Choose the township."), field="township")
    if village is not None and village.township_id != township.pk:
        raise DomainError(
            _("%(village)s is not in %(township)s.") % {"village": village, "township": township}, field="village"
        )
    content = (content or "").strip()
    if not content:
        raise DomainError(_("The content is empty."), field="content")
    if len(content) > Suggestion.MAX_CONTENT_LENGTH:
        raise DomainError(
            _("The content is too long: %(length)d characters, at most %(max)d.")
            % {"length": len(content), "max": Suggestion.MAX_CONTENT_LENGTH},
            field="content",
        )
    citizen_name = _short(citizen_name, max_length=64, field="citizen_name", label=_("citizen's name"))
    external_id = _short(external_id, max_length=64, field="external_id", label=_("external number"))
    phone = normalize_phone(phone)

    def duplicate():
        existing = Suggestion.objects.filter(channel=channel, external_id=external_id).first()
        return DomainError(
            _("Number %(external_id)s from %(channel)s is already registered as %(tracking)s.")
            % {"external_id": external_id, "channel": Channel(channel).label,
               "tracking": existing.tracking_number if existing else "?"},
            field="external_id",
        )

    if external_id and Suggestion.objects.filter(channel=channel, external_id=external_id).exists():
        raise duplicate()
    try:
        with transaction.atomic():
            task = Task.objects.create(
                title=task_title(content), state=State.REGISTERED, channel=channel, category=category,
                urgency=urgency, township=township, created_at=now,
            )
            suggestion = Suggestion.objects.create(
                channel=channel, external_id=external_id, received_at=received_at, registered_at=now,
                registered_by=actor, citizen_name=citizen_name, phone=phone, township=township, village=village,
                content=content, category=category, urgency=urgency, task=task,
            )
            TaskEvent.objects.create(
                task=task, action=Action.REGISTER, actor=actor, at=now, from_state="", to_state=State.REGISTERED,
                data={"suggestion": suggestion.pk, "tracking_number": suggestion.tracking_number},
            )
    except IntegrityError as exc:
        # Another registrar stored the same number between the check and the insert.
        if external_id and Suggestion.objects.filter(channel=channel, external_id=external_id).exists():
            raise duplicate() from exc
        raise
    return suggestion
