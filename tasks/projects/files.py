"""Evidence and mechanism documents: type found from the content, size limited, stored under MEDIA_ROOT.

The uploaded name and the browser's content type are never trusted: the first bytes
decide the type (JPEG, PNG, WebP or PDF), and the stored name is random with the
extension of that type. Files are read back only through views that check the user may
see the project or mechanism first; MEDIA_URL is not served.
"""

import dataclasses
import os
import unicodedata
import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tasks.errors import DomainError

# Overridable with settings.EVIDENCE_MAX_BYTES.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
_HEAD = 16

# (content type, extension, test of the first bytes)
SIGNATURES = (
    ("image/jpeg", ".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", ".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", ".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", ".pdf", lambda head: head.startswith(b"%PDF-")),
)
ACCEPT = ".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"


def max_bytes() -> int:
    """The largest evidence file accepted: settings.EVIDENCE_MAX_BYTES, 10 MB by default."""
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a supported file from its first bytes, or None."""
    for content_type, extension, matches in SIGNATURES:
        if matches(head):
            return content_type, extension
    return None


@dataclasses.dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks, not yet stored."""

    upload: object
    name: str
    content_type: str
    extension: str
    size: int


def _display_name(upload) -> str:
    name = os.path.basename(getattr(upload, "name", "") or "")
    # Kept as given (pages escape it), except control characters: a line break would break the download's header.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] or _("unnamed file")


def _size(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
    return int(size)


def file_check(upload) -> CheckedFile:
    """Check one upload's size and type (from its content); raises DomainError naming the file and the reason."""
    name = _display_name(upload)
    size = _size(upload)
    limit = max_bytes()
    if size == 0:
        raise DomainError(_("%(name)s is empty.") % {"name": name}, field="files")
    if size > limit:
        raise DomainError(
            _("%(name)s is too large: %(size)s, at most %(max)s.")
            % {"name": name, "size": filesizeformat(size), "max": filesizeformat(limit)},
            field="files",
        )
    upload.seek(0)
    found = sniff(upload.read(_HEAD))
    upload.seek(0)
    if found is None:
        raise DomainError(
            _("%(name)s is not a JPEG, PNG or WebP image or a PDF document (judged by its content, not its name).")
            % {"name": name},
            field="files",
        )
    return CheckedFile(upload=upload, name=name, content_type=found[0], extension=found[1], size=size)


def files_check(uploads) -> list[CheckedFile]:
    """Check every upload before any is stored, so a refused one leaves nothing behind."""
    uploads = [upload for upload in uploads or () if upload is not None]
    if len(uploads) > MAX_FILES:
        raise DomainError(
            _("Too many files: %(count)d, at most %(max)d at a time.") % {"count": len(uploads), "max": MAX_FILES},
            field="files",
        )
    return [file_check(upload) for upload in uploads]


def file_store(checked: CheckedFile, *, folder: str, now) -> str:
    """Write a checked file under MEDIA_ROOT/<folder>/<year>/<month>/ with a random name; returns the stored name."""
    path = f"{folder}/{now:%Y/%m}/{uuid.uuid4().hex}{checked.extension}"
    checked.upload.seek(0)
    return default_storage.save(path, checked.upload)


def files_delete(names) -> None:
    """Remove stored files (the write they belonged to failed); a missing file is not an error."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            pass
