"""Reads for the public pages: a case's progress, only for whoever holds its number and phone digits."""

import dataclasses
import datetime as dt
import hmac
import re

from feedback.models import Suggestion
from feedback.models.suggestion import TRACKING_ALPHABET

from . import progress

TRACKING_NUMBER = re.compile(r"DZ\d{8}[" + TRACKING_ALPHABET + "]{8}")
_NON_DIGITS = re.compile(r"\D")
# Compared against when the number is unknown, so both failures do the same work.
_NO_DIGITS = "\x00" * 4


def normalize_tracking_number(value: str) -> str:
    """Upper-case without spaces, as printed on the confirmation: dz 20211025 k7qw3m9x → DZ20211025K7QW3M9X."""
    return re.sub(r"\s+", "", value or "").upper()


def phone_last_four(phone: str) -> str:
    digits = _NON_DIGITS.sub("", phone or "")
    return digits[-4:] if len(digits) >= 4 else ""


@dataclasses.dataclass(frozen=True)
class Progress:
    tracking_number: str
    received_at: dt.datetime
    township: str
    category: str
    stage: str
    stage_label: str
    department: str
    expected_at: dt.datetime | None
    outcome: str
    reply: str
    replied_at: dt.datetime | None
    milestones: list


def progress_for(suggestion: Suggestion) -> Progress:
    """The public view of one suggestion's case (two queries: the timeline and its departments)."""
    task = suggestion.task
    department = progress.handled_by(task)
    outcome, reply = progress.published_reply(task)
    stage = progress.stage_of(task.state)
    return Progress(
        tracking_number=suggestion.tracking_number,
        received_at=suggestion.received_at,
        township=suggestion.township.name,
        category=suggestion.get_category_display(),
        stage=stage,
        stage_label=progress.stage_label(task.state),
        department=department.name if department else "",
        expected_at=task.deadline if stage == progress.Stage.HANDLING else None,
        outcome=outcome,
        reply=reply,
        replied_at=task.replied_at if reply else None,
        milestones=progress.milestones(task),
    )


def progress_lookup(*, tracking_number: str, phone_digits: str) -> Progress | None:
    """The case's progress when the number exists and its phone ends in these four digits; None otherwise.

    An unknown number, a wrong pair and a case registered without a phone all give None:
    the caller cannot tell them apart, so the answer confirms nothing about other people's cases.
    """
    number = normalize_tracking_number(tracking_number)
    suggestion = (
        Suggestion.objects.select_related("task__lead_department", "township")
        .filter(tracking_number=number)
        .first()
        if TRACKING_NUMBER.fullmatch(number)
        else None
    )
    expected = phone_last_four(suggestion.phone) if suggestion is not None else ""
    given = phone_digits if re.fullmatch(r"\d{4}", phone_digits or "") else ""
    matched = hmac.compare_digest((expected or _NO_DIGITS).encode(), (given or "-").encode()) and bool(expected)
    return progress_for(suggestion) if matched else None
