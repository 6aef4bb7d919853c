from .imports import *  # noqa: F401,F403  (import jobs: owned by the importer)
from .privacy import PhoneView
from .suggestion import (
    Callback,
    CallbackResult,
    Category,
    Channel,
    Suggestion,
    Urgency,
    content_fingerprint,
    mask_name,
    mask_phone,
    new_tracking_number,
)

__all__ = [
    "Callback",
    "CallbackResult",
    "Category",
    "Channel",
    "PhoneView",
    "Suggestion",
    "Urgency",
    "content_fingerprint",
    "mask_name",
    "mask_phone",
    "new_tracking_number",
]
