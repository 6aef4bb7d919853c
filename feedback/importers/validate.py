"""One spreadsheet row checked against the template and the organisation: a Row to write, or its problems.

The organisation (townships, villages, departments) is loaded once per import into a
Reference, so checking a row costs no query and tests can build a Reference by hand.
"""

import dataclasses
import datetime as dt
import functools
import hashlib

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feedback.models import Category, Channel, Suggestion, Urgency

from . import cells as c
from .columns import HeaderMap


@dataclasses.dataclass(frozen=True)
class Dept:
    id: int
    name: str
    is_active: bool
    dispatches: bool  # the supervision office: it assigns work, it does not handle it


@dataclasses.dataclass
class Reference:
    """The organisation keyed by what a spreadsheet may say: full or short names, codes."""

    townships: dict[str, int]  # folded name or short name -> id
    township_names: dict[int, str]
    villages: dict[tuple[int, str], int]  # (township id, folded name) -> id
    village_townships: dict[str, list[int]]  # folded name -> the townships that have one
    departments: dict[str, Dept]  # folded name or lower-case code -> department

    @classmethod
    def load(cls) -> "Reference":
        """Three queries: every township, village and department."""
        from org.models import Department, Township, Village

        townships, names = {}, {}
        for pk, name, short in Township.objects.values_list("pk", "name", "short_name"):
            names[pk] = name
            townships[_key(name)] = pk
            if short:
                townships.setdefault(_key(short), pk)
        villages, village_townships = {}, {}
        for pk, township_id, name in Village.objects.values_list("pk", "township_id", "name"):
            villages[(township_id, _key(name))] = pk
            village_townships.setdefault(_key(name), []).append(township_id)
        departments = {}
        for pk, name, code, active, kind in Department.objects.values_list("pk", "name", "code", "is_active", "kind"):
            dept = Dept(pk, name, active, kind == Department.Kind.SUPERVISION)
            departments[_key(name)] = dept
            departments.setdefault(_key(code), dept)
        return cls(townships, names, villages, village_townships, departments)


def _key(value) -> str:
    return c.folded(value).replace(" ", "").lower()


# The domain's own Chinese words (DOMAIN.md), accepted whatever the interface language.
_CHANNEL_WORDS = {
    Channel.HOTLINE: ("12345热线", "12345", "热线", "12345政务服务便民热线", "市长热线"),
    Channel.SUNSHINE: ("阳光理政",),
    Channel.PORTAL: ("政府网站", "网站", "网站留言", "市政府网站"),
    Channel.TV: ("电视问政",),
    Channel.VISIT: ("走访", "入户走访", "上门走访"),
    Channel.OTHER: ("其他", "其它"),
}
_CATEGORY_WORDS = {
    Category.CONSULTATION: ("咨询",),
    Category.HELP: ("求助",),
    Category.COMPLAINT: ("投诉",),
    Category.SUGGESTION: ("建议", "意见建议"),
    Category.WRONGDOING: ("举报",),
}
_URGENCY_WORDS = {Urgency.NORMAL: ("一般", "普通"), Urgency.URGENT: ("紧急", "加急", "特急")}


@functools.cache
def _choice_keys(choices, words_items) -> dict[str, str]:
    keys = {}
    for value, label in choices.choices:
        keys[_key(value)] = value
        with translation.override("en"):
            keys[_key(str(label))] = value
        keys[_key(str(label))] = value  # and as the interface translates it
    for value, words in words_items:
        for word in words:
            keys[_key(word)] = value
    return keys


def _choice(value, choices, words: dict, default) -> str:
    text = c.folded(value)
    if not text:
        if default is None:
            raise c.CellError(_("This column is required."))
        return default
    found = _choice_keys(choices, tuple(words.items())).get(_key(text))
    if found is None:
        allowed = "、".join(words[v][0] for v in choices.values)
        raise c.CellError(_("%(value)s is not one of: %(allowed)s.") % {"value": c.shown(value), "allowed": allowed})
    return found


@dataclasses.dataclass(slots=True)
class Row:
    """A row that passed every check: what the writer needs, already in the models' terms."""

    number: int
    external_id: str
    channel: str
    received_at: dt.datetime
    citizen_name: str
    phone: str
    township_id: int
    village_id: int | None
    content: str
    category: str
    urgency: str
    department_id: int | None
    deadline: tuple | None  # ("days", n) or ("date", date)
    fingerprint: str

    def duplicate_key(self) -> tuple:
        """The import's duplicate rule: channel + number when there is a number, else
        content fingerprint + township + received date (received_at is in the city's zone)."""
        if self.external_id:
            return ("number", self.channel, self.external_id)
        return ("content", self.fingerprint, self.township_id, self.received_at.date())


_FIELD_LIMITS = {
    "external_id": Suggestion._meta.get_field("external_id").max_length,
    "citizen_name": Suggestion._meta.get_field("citizen_name").max_length,
}
_FIELDS = ("external_id", "channel", "received_at", "citizen_name", "phone", "township", "village", "content",
           "category", "urgency", "department", "deadline")
# A column the file lacks reads as this position, which no row reaches: the cell is None.
_ABSENT = 1 << 30
# Each lookup column remembers this many distinct cell values (a file holds a few dozen).
_MEMO_LIMIT = 50_000
_MOBILE_SECOND = frozenset("3456789")


def _fingerprint(content: str) -> str:
    """content_fingerprint() without its regular expression: str.split() drops the same
    white space as \\s (both use str.isspace), at a third of the cost."""
    return hashlib.sha1("".join(content.split()).encode("utf-8")).hexdigest()


def _plain_text(value, max_length: int, required: bool) -> str:
    """c.parse_text for the common cell: a string without an apostrophe prefix or carriage return."""
    if type(value) is str and value[:1] != "'" and "\r" not in value:
        text = value.strip()
        if len(text) <= max_length and (text or not required):
            return text
    return c.parse_text(value, max_length=max_length, required=required)


class RowChecker:
    """validate_row() for the rows of one file: column positions, the organisation and "today"
    resolved once, and each lookup column's distinct values checked once.

    A file says 留早镇 or 12345热线 thousands of times; the answer (or the error message, in
    the language active when it was first met) is remembered per cell value. Free-text and
    date cells take fast paths for their common forms and the full parsers (cells.py) for
    everything else, so both give the same values and the same messages.
    """

    def __init__(self, header: HeaderMap, ref: Reference, *, now: dt.datetime):
        self.header = header
        self.ref = ref
        self.width = len(header.headers)
        self.positions = tuple(header.index.get(field, _ABSENT) for field in _FIELDS)
        self.zone = timezone.get_default_timezone()
        self.memo: dict[str, dict] = {field: {} for field in ("channel", "township", "village", "category",
                                                              "urgency", "department", "deadline")}
        self.set_now(now)

    def set_now(self, now: dt.datetime) -> None:
        """The moment rows are checked against (received times in the future are refused)."""
        self.now = now
        today = timezone.localdate(now, self.zone)
        if today != getattr(self, "today", None):
            self.today = today
            self.memo["deadline"] = {}

    def _lookup(self, field: str, value, compute, *args):
        """compute(value, *args) remembered per cell value (and args): (True, result) or (False, message)."""
        memo = self.memo[field]
        # 1, 1.0 and True are equal dict keys but different cells: non-strings are keyed with their type.
        key = value if type(value) is str else (type(value), value)
        if args and field == "village":
            key = (key, args[0])
        try:
            return memo[key]
        except KeyError:
            pass
        try:
            outcome = (True, compute(value, *args))
        except c.CellError as exc:
            outcome = (False, str(exc))
        if len(memo) < _MEMO_LIMIT:
            memo[key] = outcome
        return outcome

    def check(self, number: int, cells) -> tuple:
        """(Row, []) for a good row, (None, [(field, message), ...]) naming each bad cell of a bad one."""
        n = len(cells)
        problems: list[tuple[str, str]] = []
        if n > self.width and not all(c.as_text(v).strip() == "" for v in cells[self.width:]):
            problems.append(
                ("", _("The row has more cells than the header row has columns; is there an unquoted comma in a cell?"))
            )
        (p_external, p_channel, p_received, p_name, p_phone, p_township, p_village, p_content, p_category,
         p_urgency, p_department, p_deadline) = self.positions

        value = cells[p_external] if p_external < n else None
        if type(value) is str and value.isascii() and value.isprintable() and " " not in value and value[:1] != "'":
            external_id = value  # already what folded() would make of it
        else:
            external_id = c.folded(value)
        if len(external_id) > _FIELD_LIMITS["external_id"]:
            problems.append(("external_id", _("Too long: %(length)d characters, at most %(max)d.")
                             % {"length": len(external_id), "max": _FIELD_LIMITS["external_id"]}))

        ok, channel = self._lookup("channel", cells[p_channel] if p_channel < n else None, _choice, Channel,
                                   _CHANNEL_WORDS, None)
        if not ok:
            problems.append(("channel", channel))

        value = cells[p_received] if p_received < n else None
        received_at = None
        if type(value) is str and len(value) >= 10 and value[4] == "-" and value.isascii():
            # The ISO form most exports write (2021-10-25 09:30[:00]) at C speed; anything
            # else, and anything this finds wrong, goes through the full parser for its message.
            try:
                when = dt.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if when.tzinfo is None and when.year >= c.EARLIEST_YEAR:
                    received_at = when.replace(tzinfo=self.zone)
                    if received_at > self.now:
                        received_at = None
        if received_at is None:
            try:
                received_at = c.parse_received_at(value, now=self.now)
            except c.CellError as exc:
                problems.append(("received_at", str(exc)))

        try:
            citizen_name = _plain_text(cells[p_name] if p_name < n else None, _FIELD_LIMITS["citizen_name"], False)
        except c.CellError as exc:
            problems.append(("citizen_name", str(exc)))

        value = cells[p_phone] if p_phone < n else None
        if type(value) is str and len(value) == 11 and value.isascii() and value.isdigit() and value[0] == "1" \
                and value[1] in _MOBILE_SECOND:
            phone = value
        else:
            try:
                phone = c.parse_phone(value)
            except c.CellError as exc:
                problems.append(("phone", str(exc)))

        ok, township_id = self._lookup("township", cells[p_township] if p_township < n else None, _township, self.ref)
        village_id = None
        if not ok:
            problems.append(("township", township_id))
            township_id = None
        elif township_id:
            ok, village_id = self._lookup("village", cells[p_village] if p_village < n else None, _village,
                                          township_id, self.ref)
            if not ok:
                problems.append(("village", village_id))

        try:
            content = _plain_text(cells[p_content] if p_content < n else None, Suggestion.MAX_CONTENT_LENGTH, True)
        except c.CellError as exc:
            problems.append(("content", str(exc)))

        ok, category = self._lookup("category", cells[p_category] if p_category < n else None, _choice, Category,
                                    _CATEGORY_WORDS, Category.SUGGESTION)
        if not ok:
            problems.append(("category", category))
        ok, urgency = self._lookup("urgency", cells[p_urgency] if p_urgency < n else None, _choice, Urgency,
                                   _URGENCY_WORDS, Urgency.NORMAL)
        if not ok:
            problems.append(("urgency", urgency))
        department_ok, department_id = self._lookup(
            "department", cells[p_department] if p_department < n else None, _department, self.ref)
        if not department_ok:
            problems.append(("department", department_id))
        ok, deadline = self._lookup("deadline", cells[p_deadline] if p_deadline < n else None, c.parse_deadline,
                                    self.today)
        if not ok:
            problems.append(("deadline", deadline))
        elif deadline and department_ok and not department_id:
            problems.append(("deadline", _("A deadline needs a department (承办单位) to assign the suggestion to.")))
        if problems:
            return None, problems
        return Row(number, external_id, channel, received_at, citizen_name, phone, township_id, village_id, content,
                   category, urgency, department_id, deadline, _fingerprint(content)), problems


def validate_row(number: int, cells: list, header: HeaderMap, ref: Reference, *, now: dt.datetime):
    """(Row, []) for a good row, (None, [(field, message), ...]) naming each bad cell of a bad one."""
    return RowChecker(header, ref, now=now).check(number, cells)


def _township(value, ref: Reference) -> int:
    text = c.folded(value)
    if not text:
        raise c.CellError(_("This column is required."))
    township_id = ref.townships.get(_key(text))
    if township_id is None:
        raise c.CellError(_("%(value)s is not a known township or street office.") % {"value": c.shown(value)})
    return township_id


def _village(value, township_id: int, ref: Reference) -> int | None:
    text = c.folded(value)
    if not text:
        return None
    village_id = ref.villages.get((township_id, _key(text)))
    if village_id is None:
        elsewhere = [ref.township_names[t] for t in ref.village_townships.get(_key(text), [])]
        if elsewhere:
            raise c.CellError(
                _("%(village)s belongs to %(other)s, not to %(township)s.")
                % {"village": text, "other": "、".join(elsewhere), "township": ref.township_names[township_id]}
            )
        raise c.CellError(
            _("%(village)s is not a known village or community of %(township)s.")
            % {"village": c.shown(value), "township": ref.township_names[township_id]}
        )
    return village_id


def _department(value, ref: Reference) -> int | None:
    text = c.folded(value)
    if not text:
        return None
    dept = ref.departments.get(_key(text))
    if dept is None:
        raise c.CellError(_("%(value)s is not a known department.") % {"value": c.shown(value)})
    if not dept.is_active:
        raise c.CellError(_("%(department)s is no longer active.") % {"department": dept.name})
    if dept.dispatches:
        raise c.CellError(
            _("%(department)s dispatches tasks and cannot handle them; choose a handling department.")
            % {"department": dept.name}
        )
    return dept.id
