"""Turning one cell, as Excel or a CSV file holds it, into a clean value; no database.

Codes, names, dates and numbers are folded with NFKC (full-width ２０２１ and Ｖ become
2021 and V); the citizen's own words (content, name) are only trimmed, because NFKC would
also rewrite Chinese punctuation (，！) in them.
"""

import datetime as dt
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.validators import normalize_phone
from tasks.errors import DomainError

# Same bound as tasks.services.dispatch.task_assign for a deadline given in working days.
MAX_DEADLINE_DAYS = 250
EARLIEST_YEAR = 2000
# Excel's day 0 in the 1900 date system (its 1900-02-29 bug is why it is not 12-31).
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31

_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*T\s*|\s+|(?<=日))(?P<h>\d{1,2})\s*[:时点]\s*"
    r"(?:(?P<mi>\d{1,2})\s*(?:[:分]\s*(?:(?P<s>\d{1,2})(?:\.\d+)?\s*秒?)?)?)?)?"
)
_DAYS = re.compile(r"(\d{1,4})\s*(?:个)?\s*(?:工作日|working\s*days?|天|日)?", re.IGNORECASE)


class CellError(Exception):
    """A cell that cannot be used; the message (translated) names the value and what is expected."""


def shown(value) -> str:
    """A cell's value quoted in a message, cut short."""
    text = as_text(value)
    return text if len(text) <= 40 else text[:40] + "…"


def as_text(value) -> str:
    """The cell as a string, the way the user sees it: 13812345678.0 from Excel reads 13812345678."""
    if type(value) is str:
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    elif isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    else:
        text = str(value)
    # Our error report writes '=... so that Excel shows a formula-like cell as text; the
    # apostrophe is ours, not the citizen's, so it goes again on re-import.
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text


def folded(value) -> str:
    """NFKC-folded, trimmed, inner runs of white space made one space: for codes and names."""
    text = as_text(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _from_serial(serial: float, value) -> dt.datetime:
    if not 1 <= serial <= _MAX_SERIAL:
        raise CellError(_("%(value)s is not a date.") % {"value": shown(value)})
    return (_EXCEL_EPOCH + dt.timedelta(days=serial)).replace(microsecond=0)


def parse_when(value) -> dt.datetime | dt.date:
    """A date or date-time in any form of the template: a date cell, a serial number, 2021-10-25,
    2021/10/25, 2021.10.25, 20211025 or 2021年10月25日, each optionally with a time."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date):
        return value
    number = _number(value)
    if number is not None:
        return _from_serial(number, value)
    text = folded(value)
    if len(text) >= 10 and text[4] == "-":
        try:
            # The common ISO forms at C speed; the regular expression below takes the rest.
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                when = timezone.localtime(when, timezone.get_default_timezone()).replace(tzinfo=None)
            return when.date() if len(text) == 10 else when
    try:
        if match := _COMPACT.fullmatch(text):
            return dt.date(*map(int, match.groups()))
        if _SERIAL.fullmatch(text):
            return _from_serial(float(text), value)
        if match := _DATE.fullmatch(text):
            day = dt.date(int(match["y"]), int(match["mo"]), int(match["d"]))
            if match["h"] is None:
                return day
            return dt.datetime.combine(day, dt.time(int(match["h"]), int(match["mi"] or 0), int(match["s"] or 0)))
    except ValueError:
        pass  # 2021-02-30, 25:00 and the like
    raise CellError(
        _("%(value)s is not a date; write it like 2021-10-25, 2021/10/25 or 2021年10月25日, with or without a time.")
        % {"value": shown(value)}
    )


def parse_received_at(value, *, now: dt.datetime) -> dt.datetime:
    """The received time as an aware datetime in the city's time zone (settings.TIME_ZONE); not in the future."""
    if as_text(value).strip() == "":
        raise CellError(_("This column is required."))
    when = parse_when(value)
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time())
    if when.year < EARLIEST_YEAR:
        raise CellError(_("%(value)s is before %(year)d; check the year.") % {"value": shown(value), "year": EARLIEST_YEAR})
    # The city's zone, not the request's: the spreadsheet's times are local times of the city.
    aware = when.replace(tzinfo=timezone.get_default_timezone())
    if aware > now:
        raise CellError(_("%(value)s is in the future.") % {"value": shown(value)})
    return aware


def parse_deadline(value, today: dt.date) -> tuple[str, object] | None:
    """("days", n) for a number of working days, ("date", date) for a date; None when blank."""
    if as_text(value).strip() == "":
        return None
    number = _number(value)
    text = folded(value)
    if number is None and (match := _DAYS.fullmatch(text)) and not _COMPACT.fullmatch(text):
        number = float(match.group(1))
    if number is not None and number.is_integer() and 1 <= number <= MAX_DEADLINE_DAYS:
        return "days", int(number)
    if number is not None and number <= MAX_DEADLINE_DAYS:
        raise CellError(
            _("%(value)s: a number of working days must be a whole number from 1 to %(max)d.")
            % {"value": shown(value), "max": MAX_DEADLINE_DAYS}
        )
    when = parse_when(value)
    day = when.date() if isinstance(when, dt.datetime) else when
    if day < today:
        raise CellError(_("The deadline %(value)s has already passed.") % {"value": day.isoformat()})
    return "date", day


def parse_phone(value) -> str:
    """A mobile or landline number in one canonical form ('' when blank)."""
    try:
        return normalize_phone(as_text(value))
    except DomainError as exc:
        raise CellError(str(exc)) from exc


def parse_text(value, *, max_length: int, required: bool = False) -> str:
    """The citizen's own words, trimmed, line breaks made \\n; length checked."""
    text = as_text(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise CellError(_("This column is required."))
    if len(text) > max_length:
        raise CellError(
            _("Too long: %(length)d characters, at most %(max)d.") % {"length": len(text), "max": max_length}
        )
    return text
