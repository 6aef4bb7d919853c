"""Pages of the feedback app: the suggestion list, detail, exports and register form; bulk import."""

from .privacy import phone_show
from .imports import import_detail, import_errors, import_resume, import_start, import_status, import_template
from .suggestions import (
    suggestion_detail,
    suggestion_export_csv,
    suggestion_export_xlsx,
    suggestion_list,
    suggestion_register,
)

__all__ = [
    "import_detail",
    "import_errors",
    "import_resume",
    "import_start",
    "import_status",
    "import_template",
    "phone_show",
    "suggestion_detail",
    "suggestion_export_csv",
    "suggestion_export_xlsx",
    "suggestion_list",
    "suggestion_register",
]
