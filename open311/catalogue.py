"""The Open311 services: DOMAIN.md's five categories, each with the attributes a request needs (township, …)."""

import dataclasses

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import Category, Urgency
from org.models import Township, Village
from tasks import deadlines

DESCRIPTIONS = {
    Category.CONSULTATION: gettext_lazy("A question about a policy, a procedure or a public service."),
    Category.HELP: gettext_lazy("A request for help with a difficulty in daily life."),
    Category.COMPLAINT: gettext_lazy("A complaint about a public service, a facility or an official's conduct."),
    Category.SUGGESTION: gettext_lazy("A suggestion to improve the city's work or services."),
    Category.WRONGDOING: gettext_lazy("A report of wrongdoing, such as illegal building or pollution."),
}
GROUP = "dingzhou"


@dataclasses.dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


def services() -> list[Service]:
    """The five categories as Open311 services, in the language of the request."""
    return [
        Service(
            service_code=category.value,
            service_name=str(category.label),
            description=str(DESCRIPTIONS[category]),
            # Every service has attributes (township, village, urgency): clients must read its definition.
            metadata=True,
            type="realtime",
            keywords=category.value,
            group=GROUP,
        )
        for category in Category
    ]


def is_service(code: str) -> bool:
    return code in Category.values


def handling_notice(*, category: str, urgency: str = Urgency.NORMAL, channel: str = "") -> str:
    """How long the department has once the request is assigned, from the admin's rule table."""
    limits, _rule = deadlines.limits_for(category=category, urgency=urgency, channel=channel)
    amount, unit = limits.handle
    if unit == deadlines.HOURS:
        return _("To be handled within %(amount)d hours of assignment.") % {"amount": amount}
    return _("To be handled within %(amount)d working days of assignment.") % {"amount": amount}


def definition(code: str) -> dict:
    """The service definition: the attributes a POST may or must give, as attribute[code]=value."""
    townships = list(Township.objects.order_by("sort_order", "id").values_list("name", flat=True))
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "township",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": _("The township or street office; the short name without 镇/乡/街道 is accepted."),
                "order": 1,
                "description": _("Township or street office where the problem is"),
                "values": [{"key": name, "name": name} for name in townships],
            },
            {
                "variable": True,
                "code": "village",
                "datatype": "string",
                "required": False,
                "datatype_description": _("The name of a village or community of that township."),
                "order": 2,
                "description": _("Village or community"),
                "values": [],
            },
            {
                "variable": True,
                "code": "urgency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _("Blank means normal."),
                "order": 3,
                "description": _("Urgency"),
                "values": [{"key": u.value, "name": str(u.label)} for u in Urgency],
            },
        ],
    }


def find_township(value: str) -> Township | None:
    """A township by its full or short name (留早镇 or 留早)."""
    value = (value or "").strip()
    if not value:
        return None
    return Township.objects.filter(name=value).first() or Township.objects.filter(short_name=value).first()


def township_in(address: str) -> Township | None:
    """The township an address names (留早镇东留早村 → 留早镇): the longest full or short name it contains."""
    if not address:
        return None
    best, best_length = None, 0
    for township in Township.objects.only("pk", "name", "short_name"):
        for name in (township.name, township.short_name):
            if name and name in address and len(name) > best_length:
                best, best_length = township, len(name)
    return best


def find_village(township: Township, value: str) -> Village | None:
    value = (value or "").strip()
    if not value:
        return None
    return Village.objects.filter(township=township, name=value).first()


def village_in(township: Township, address: str) -> Village | None:
    """The village of that township an address names, the longest name first (东留早村 before 留早村)."""
    if not address:
        return None
    names = Village.objects.filter(township=township).only("pk", "name")
    matches = [v for v in names if v.name and v.name in address]
    return max(matches, key=lambda v: len(v.name)) if matches else None
