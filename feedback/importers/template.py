"""The downloadable import template (.xlsx): the headers, one sample row, and the allowed values."""

import datetime as dt
import io

from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Suggestion

from .columns import COLUMNS
from .validate import _CATEGORY_WORDS, _CHANNEL_WORDS, _URGENCY_WORDS


def _first_words(words: dict) -> list[str]:
    return [choices[0] for choices in words.values()]


def build_template() -> bytes:
    """The workbook as bytes: sheet 1 to fill in, sheet 2 explaining each column (three queries)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from org.models import Department, Township, Village

    townships = list(Township.objects.values_list("name", "short_name"))
    village = Village.objects.select_related("township").order_by("township__sort_order", "id").first()
    departments = list(
        Department.objects.filter(is_active=True).exclude(kind=Department.Kind.SUPERVISION).values_list("name", "code")
    )
    sample_township = village.township.name if village else (townships[0][0] if townships else "留早镇")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    sample = {
        "external_id": "12345-20211025-0001",
        "channel": "12345热线",
        "received_at": dt.datetime.combine(yesterday, dt.time(9, 30)),
        "citizen_name": "张三",
        "phone": "13812345678",
        "township": sample_township,
        "village": village.name if village else "",
        "content": "（示例，导入前请删除本行）小区路灯坏了很久，晚上出行不便，请尽快修复。",
        "category": "投诉",
        "urgency": "一般",
        "department": departments[0][0] if departments else "",
        "deadline": 10,
    }

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "诉求导入"
    sheet.append([c.header for c in COLUMNS])
    sheet.append([sample[c.field] for c in COLUMNS])
    required = PatternFill("solid", fgColor="FDE2E1")
    for position, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required
        sheet.column_dimensions[cell.column_letter].width = 40 if column.field == "content" else 16
    sheet.cell(row=2, column=3).number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    for field, words in (("channel", _CHANNEL_WORDS), ("category", _CATEGORY_WORDS), ("urgency", _URGENCY_WORDS)):
        letter = sheet.cell(row=1, column=[c.field for c in COLUMNS].index(field) + 1).column_letter
        choice = DataValidation(type="list", formula1='"' + ",".join(_first_words(words)) + '"', allow_blank=True)
        choice.add(f"{letter}2:{letter}100000")
        sheet.add_data_validation(choice)

    notes = workbook.create_sheet("填写说明")
    notes.append([_("Column"), _("English header"), _("Required"), _("Accepted values")])
    allowed = {
        "external_id": _("The number the source system gave it; unique within its channel. Blank is allowed."),
        "channel": "、".join(_first_words(_CHANNEL_WORDS)),
        "received_at": _("2021-10-25, 2021/10/25 or 2021年10月25日, with or without a time, or a date cell."),
        "citizen_name": _("At most %(max)d characters.") % {"max": 64},
        "phone": _("A mobile number (13812345678) or a landline with area code (0312-1234567)."),
        "township": _("A township or street office, full or short name (see below)."),
        "village": _("A village or community of that township."),
        "content": _("1 to %(max)d characters.") % {"max": Suggestion.MAX_CONTENT_LENGTH},
        "category": "、".join(_first_words(_CATEGORY_WORDS)) + _("; blank means 建议."),
        "urgency": "、".join(_first_words(_URGENCY_WORDS)) + _("; blank means 一般."),
        "department": _("A department (see below); if given, the suggestion is assigned to it."),
        "deadline": _("A date, or a number of working days (1 to 250); only with a department."),
    }
    for column in COLUMNS:
        notes.append([column.header, column.alias, _("yes") if column.required else _("no"), allowed[column.field]])
    notes.append([])
    notes.append([_("Townships and street offices"), _("Short name")])
    for name, short in townships:
        notes.append([name, short])
    notes.append([])
    notes.append([_("Departments"), _("Code")])
    for name, code in departments:
        notes.append([name, code])
    for letter, width in (("A", 22), ("B", 16), ("C", 10), ("D", 70)):
        notes.column_dimensions[letter].width = width

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
