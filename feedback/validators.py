"""Small reusable checks on what citizens and registrars type (shared by the form and the importer)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tasks.errors import DomainError

# Spaces, dashes (ASCII and Chinese), dots and brackets people put inside phone numbers.
_PHONE_NOISE = re.compile(r"[\s\-‐‑–—－·.()（）]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code (0 + 2 or 3 digits) and a local number of 7 or 8 digits.
_LANDLINE = re.compile(r"0\d{9,11}")


def normalize_phone(value: str) -> str:
    """A Chinese mobile (13812345678) or landline (0312-1234567) in one canonical form; "" when blank.

    Raises DomainError(field="phone") naming the value when it is neither.
    """
    raw = (value or "").strip()
    if not raw:
        return ""
    # Full-width digits (１３８…) typed with a Chinese input method become ASCII.
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    else:
        if digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
            digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return digits
    if _LANDLINE.fullmatch(digits):
        # Beijing (010) and the 02x cities have 3-digit area codes; every other area code has 4.
        area_length = 3 if digits.startswith(("010", "02")) else 4
        area, local = digits[:area_length], digits[area_length:]
        if 7 <= len(local) <= 8:
            return f"{area}-{local}"
    raise DomainError(
        _(
            "%(value)s is not a Chinese mobile number (11 digits, 13812345678) "
            "or landline with area code (0312-1234567)."
        )
        % {"value": raw},
        field="phone",
    )


def validate_phone(value: str) -> None:
    """The same check as a Django form/model validator."""
    try:
        normalize_phone(value)
    except DomainError as exc:
        raise ValidationError(str(exc), code="invalid_phone") from exc
