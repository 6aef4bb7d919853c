"""Report card scopes: the whole city, one department, or one township.

Each figure counts suggestions, tasks or callbacks; a scope narrows each of them by a
path that depends on the record (see DOMAIN.md "Report card figures"):

| scope      | suggestions            | tasks           | callbacks              | return requests | assisting parts |
|------------|------------------------|-----------------|------------------------|-----------------|-----------------|
| department | task's lead department | lead department | task's lead department | the requester   | the assistant   |
| township   | suggestion's township  | task's township | task's township        | task's township | task's township |

Texts (`parse_scope`, the CLI and page URLs): "city", "department:<code or name>",
"township:<name or short name>". A department is found by its code (zhujian), its name
(住建局) or its name without the suffix (住建); a township by its name (留早镇) or short
name (留早).
"""

from __future__ import annotations

import dataclasses

from django.db.models import Q
from django.utils.translation import gettext as _

from org.models import Department, Township
from tasks.errors import DomainError

CITY, DEPARTMENT, TOWNSHIP = "city", "department", "township"
KINDS = (CITY, DEPARTMENT, TOWNSHIP)

# The kinds of record a figure counts: suggestions, tasks, callbacks, return requests
# (TaskRequest) and assisting departments' parts (TaskAssist).
SUGGESTION, TASK, CALLBACK, REQUEST, ASSIST = "suggestion", "task", "callback", "request", "assist"

# Which field of each record places it in a department or a township. A return request
# belongs to the department that filed it, an assisting part to the assisting department.
GROUP_PATHS = {
    DEPARTMENT: {
        SUGGESTION: "task__lead_department",
        TASK: "lead_department",
        CALLBACK: "task__lead_department",
        REQUEST: "department",
        ASSIST: "department",
    },
    TOWNSHIP: {
        SUGGESTION: "township",
        TASK: "township",
        CALLBACK: "task__township",
        REQUEST: "task__township",
        ASSIST: "task__township",
    },
}

# Department suffixes a user may leave off: 住建 for 住建局, 不动产登记 for 不动产登记中心.
_DEPARTMENT_SUFFIXES = ("局", "中心", "办", "公司", "委", "处")


class ScopeError(DomainError):
    """A scope text that names no department or township, or names several."""


@dataclasses.dataclass(frozen=True, eq=False)
class Scope:
    """The city, or one department, or one township."""

    kind: str
    department: Department | None = None
    township: Township | None = None

    @property
    def unit(self):
        """The department or township, None for the city."""
        return self.department if self.kind == DEPARTMENT else self.township if self.kind == TOWNSHIP else None

    @property
    def unit_id(self) -> int | None:
        unit = self.unit
        return unit.pk if unit is not None else None

    @property
    def code(self) -> str:
        """The text `parse_scope` reads back: city, department:zhujian, township:留早镇."""
        if self.kind == DEPARTMENT:
            return f"department:{self.department.code}"
        if self.kind == TOWNSHIP:
            return f"township:{self.township.name}"
        return CITY

    @property
    def label(self) -> str:
        return str(self.unit) if self.unit is not None else _("the whole city")

    def filter_for(self, record: str) -> Q:
        """The condition that keeps `record` rows (suggestion, task or callback) in this scope."""
        if self.kind == CITY:
            return Q()
        return Q(**{f"{GROUP_PATHS[self.kind][record]}_id": self.unit_id})

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "code": self.code}
        if self.kind == DEPARTMENT:
            data.update(id=self.department.pk, name=self.department.name, department_code=self.department.code)
        elif self.kind == TOWNSHIP:
            data.update(id=self.township.pk, name=self.township.name, short_name=self.township.short_name)
        return data

    def __str__(self):
        return self.code

    def __eq__(self, other):
        return isinstance(other, Scope) and (self.kind, self.unit_id) == (other.kind, other.unit_id)

    def __hash__(self):
        return hash((self.kind, self.unit_id))


def city() -> Scope:
    return Scope(CITY)


def for_department(department: Department) -> Scope:
    return Scope(DEPARTMENT, department=department)


def for_township(township: Township) -> Scope:
    return Scope(TOWNSHIP, township=township)


def find_department(text: str) -> Department:
    """The department named by its code, its name, or its name without the suffix."""
    name = (text or "").strip()
    if not name:
        raise ScopeError(_("Name the department (its name or code)."))
    found = Department.objects.filter(Q(code__iexact=name) | Q(name=name)).first()
    if found is not None:
        return found
    matches = list(Department.objects.filter(name__in=[name + suffix for suffix in _DEPARTMENT_SUFFIXES])[:2])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ScopeError(
            _("%(text)s could be %(names)s; give the full name.")
            % {"text": name, "names": ", ".join(map(str, matches))}
        )
    raise ScopeError(_("There is no department %(text)s.") % {"text": name})


def find_township(text: str) -> Township:
    """The township named by its name (留早镇) or its short name (留早)."""
    name = (text or "").strip()
    if not name:
        raise ScopeError(_("Name the township (its name or short name)."))
    found = Township.objects.filter(Q(name=name) | Q(short_name=name)).first()
    if found is None:
        raise ScopeError(_("There is no township %(text)s.") % {"text": name})
    return found


def resolve_scope(kind: str, name: str | None = None) -> Scope:
    """The scope of `kind` (city, department, township), finding the named unit."""
    kind = (kind or "").strip().lower()
    if kind == CITY:
        if name:
            raise ScopeError(_("The city scope takes no name; got %(text)s.") % {"text": name})
        return city()
    if kind == DEPARTMENT:
        return for_department(find_department(name))
    if kind == TOWNSHIP:
        return for_township(find_township(name))
    raise ScopeError(_("Unknown scope %(kind)s: use city, department or township.") % {"kind": kind})


def parse_scope(text: str) -> Scope:
    """Read "city", "department:<code or name>" or "township:<name>" into a Scope."""
    kind, _sep, name = (text or "").strip().partition(":")
    return resolve_scope(kind, name or None)
