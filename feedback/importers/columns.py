"""The bulk import template's columns (DOMAIN.md "Bulk import template") and header matching."""

import dataclasses
import re
import unicodedata

from django.utils.translation import gettext as _

from tasks.errors import DomainError


@dataclasses.dataclass(frozen=True)
class Column:
    field: str
    header: str  # the template's Chinese header
    alias: str  # the English header
    required: bool
    # Other headers seen in hotline and message-board exports.
    more: tuple[str, ...] = ()

    @property
    def keys(self) -> set[str]:
        return {header_key(h) for h in (self.header, self.alias, *self.more)}


COLUMNS: tuple[Column, ...] = (
    Column("external_id", "编号", "external_id", False, ("工单编号", "工单号", "外部编号", "number")),
    Column("channel", "来源渠道", "channel", True, ("渠道", "来源")),
    Column("received_at", "反映时间", "received_at", True, ("受理时间", "来电时间", "received", "received_time")),
    Column("citizen_name", "诉求人", "citizen_name", False, ("姓名", "反映人", "citizen", "name")),
    Column("phone", "联系电话", "phone", False, ("电话", "手机", "手机号", "手机号码", "联系方式")),
    Column("township", "乡镇(街道)", "township", True, ("乡镇", "街道", "乡镇街道")),
    Column("village", "村(社区)", "village", False, ("村", "社区", "村社区", "村庄")),
    Column("content", "诉求内容", "content", True, ("内容", "反映内容", "问题描述")),
    Column("category", "诉求类别", "category", False, ("类别", "诉求类型", "类型")),
    Column("urgency", "紧急程度", "urgency", False, ("紧急", "缓急程度")),
    Column("department", "承办单位", "department", False, ("承办部门", "责任单位", "单位")),
    Column("deadline", "办理时限", "deadline", False, ("时限", "办结时限")),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

# The two columns an error report adds after the original cells (see report.py). A file
# re-imported from a fixed error report carries them; they are ours, so they are skipped
# quietly instead of being reported as unknown columns.
REPORT_ROW_HEADERS = ("原行号", "source row")
REPORT_REASON_HEADERS = ("错误原因", "error reason")
IGNORED = "_ignored"

_KEY_NOISE = re.compile(r"[\s_\-*]+")


def header_key(text) -> str:
    """What a header is matched on: full-width forms folded (NFKC), case, spaces, _ - and * marks removed."""
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())


_FIELD_BY_KEY: dict[str, str] = {}
for _column in COLUMNS:
    for _key in _column.keys:
        _FIELD_BY_KEY[_key] = _column.field
for _header in REPORT_ROW_HEADERS + REPORT_REASON_HEADERS:
    _FIELD_BY_KEY[header_key(_header)] = IGNORED


@dataclasses.dataclass
class HeaderMap:
    """Which column of the file holds which field, and the file's headers exactly as written."""

    headers: list[str]
    index: dict[str, int]  # field -> column position
    unknown: list[str]  # headers we do not know, as written

    def header_of(self, field: str) -> str:
        """The header as the user wrote it (error messages name the column this way)."""
        position = self.index.get(field)
        if position is None:
            return COLUMN_BY_FIELD[field].header
        return self.headers[position]


def looks_like_header(cells) -> int:
    """How many known headers a row holds: used to find the header row below a title row."""
    return sum(1 for cell in cells if header_key(cell) in _FIELD_BY_KEY)


def map_headers(cells) -> HeaderMap:
    """Match a header row to the template; refuse it when a required column is missing or doubled."""
    headers = ["" if cell is None else str(cell).strip() for cell in cells]
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        if not header:
            continue
        field = _FIELD_BY_KEY.get(header_key(header))
        if field is None:
            unknown.append(header)
        elif field == IGNORED:
            continue
        elif field in index:
            raise DomainError(
                _('The columns "%(first)s" and "%(second)s" both hold %(column)s; keep one of them.')
                % {"first": headers[index[field]], "second": header, "column": COLUMN_BY_FIELD[field].header},
                field="file",
            )
        else:
            index[field] = position
    missing = [c.header for c in COLUMNS if c.required and c.field not in index]
    if missing:
        raise DomainError(
            _("The file lacks the required column(s) %(missing)s. Its header row reads: %(found)s.")
            % {"missing": "、".join(missing), "found": "、".join(h for h in headers if h) or _("(nothing)")},
            field="file",
        )
    return HeaderMap(headers=headers, index=index, unknown=unknown)
