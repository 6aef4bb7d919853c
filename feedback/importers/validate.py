"""One spreadsheet row checked against the template and the organisation: a Row to write, or its problems.

The organisation (townships, villages, departments) is loaded once per import into a
Reference, so checking a row costs no query and tests can build a Reference by hand.
"""

import dataclasses
import datetime as dt
import functools

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feedback.models import Category, Channel, Suggestion, Urgency, content_fingerprint

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
    # Results of looking up a cell value: a file says 留早镇 or 12345热线 thousands of times.
    _memo: dict = dataclasses.field(default_factory=dict, repr=False)

    def cached(self, key: tuple, lookup, *args):
        """lookup(*args), remembered under key, failures (CellError) included."""
        try:
            ok, outcome = self._memo[key]
        except KeyError:
            try:
                ok, outcome = True, lookup(*args)
            except c.CellError as exc:
                ok, outcome = False, str(exc)
            if len(self._memo) < 50_000:
                self._memo[key] = (ok, outcome)
        if ok:
            return outcome
        raise c.CellError(outcome)

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


def validate_row(number: int, cells: list, header: HeaderMap, ref: Reference, *, now: dt.datetime):
    """(Row, []) for a good row, (None, [(field, message), ...]) naming each bad cell of a bad one."""
    problems: list[tuple[str, str]] = []
    if len(cells) > len(header.headers) and not all(c.as_text(v).strip() == "" for v in cells[len(header.headers):]):
        problems.append(
            ("", _("The row has more cells than the header row has columns; is there an unquoted comma in a cell?"))
        )
    values: dict = {}

    def cell(field):
        position = header.index.get(field)
        return cells[position] if position is not None and position < len(cells) else None

    def check(field, parse):
        try:
            values[field] = parse(cell(field))
        except c.CellError as exc:
            problems.append((field, str(exc)))

    def external_id(value):
        text = c.folded(value)
        if len(text) > _FIELD_LIMITS["external_id"]:
            raise c.CellError(_("Too long: %(length)d characters, at most %(max)d.")
                              % {"length": len(text), "max": _FIELD_LIMITS["external_id"]})
        return text

    today = timezone.localdate(now, timezone.get_default_timezone())
    check("external_id", external_id)
    check("channel", lambda v: ref.cached(("channel", v), _choice, v, Channel, _CHANNEL_WORDS, None))
    check("received_at", lambda v: c.parse_received_at(v, now=now))
    check("citizen_name", lambda v: c.parse_text(v, max_length=_FIELD_LIMITS["citizen_name"]))
    check("phone", c.parse_phone)
    check("township", lambda v: ref.cached(("township", v), _township, v, ref))
    if township_id := values.get("township"):
        check("village", lambda v: ref.cached(("village", township_id, v), _village, v, township_id, ref))
    check("content", lambda v: c.parse_text(v, max_length=Suggestion.MAX_CONTENT_LENGTH, required=True))
    check("category", lambda v: ref.cached(
        ("category", v), _choice, v, Category, _CATEGORY_WORDS, Category.SUGGESTION))
    check("urgency", lambda v: ref.cached(("urgency", v), _choice, v, Urgency, _URGENCY_WORDS, Urgency.NORMAL))
    check("department", lambda v: ref.cached(("department", v), _department, v, ref))
    check("deadline", lambda v: ref.cached(("deadline", today, v), c.parse_deadline, v, today))
    if values.get("deadline") and not values.get("department") and "department" not in dict(problems):
        problems.append(("deadline", _("A deadline needs a department (承办单位) to assign the suggestion to.")))
    if problems:
        return None, problems
    return Row(
        number=number,
        external_id=values["external_id"],
        channel=values["channel"],
        received_at=values["received_at"],
        citizen_name=values["citizen_name"],
        phone=values["phone"],
        township_id=values["township"],
        village_id=values.get("village"),
        content=values["content"],
        category=values["category"],
        urgency=values["urgency"],
        department_id=values["department"],
        deadline=values["deadline"],
        fingerprint=content_fingerprint(values["content"]),
    ), []


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
