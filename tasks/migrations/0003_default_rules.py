"""The default deadline rules and reminder policy of DOMAIN.md, so admins find them to edit.

The values come from the code's defaults (tasks.deadlines, tasks.reminders.levels), which
also apply while a row is missing; rows an admin already has are left alone.
"""

from django.db import migrations


def create_defaults(apps, schema_editor):
    from tasks.deadlines import DEFAULT_RULES
    from tasks.reminders.levels import DEFAULT_RULES as REMINDER_DEFAULTS
    from tasks.reminders.levels import Audience

    DeadlineRule = apps.get_model("tasks", "DeadlineRule")
    ReminderRule = apps.get_model("tasks", "ReminderRule")
    for (category, urgency), limits in DEFAULT_RULES.items():
        DeadlineRule.objects.get_or_create(
            category=category,
            urgency=urgency,
            channel="",
            defaults=dict(
                accept_amount=limits.accept[0],
                accept_unit=limits.accept[1],
                handle_amount=limits.handle[0],
                handle_unit=limits.handle[1],
                callback_amount=limits.callback[0],
                callback_unit=limits.callback[1],
            ),
        )
    for rule in REMINDER_DEFAULTS.values():
        ReminderRule.objects.get_or_create(
            level=rule.level,
            defaults=dict(
                is_active=rule.is_active,
                days=rule.days,
                to_handlers=Audience.HANDLERS in rule.audiences,
                to_head=Audience.HEAD in rule.audiences,
                to_supervisors=Audience.SUPERVISORS in rule.audiences,
                to_leaders=Audience.LEADERS in rule.audiences,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("tasks", "0002_chinese_search")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
