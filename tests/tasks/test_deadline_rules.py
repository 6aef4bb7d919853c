"""Assignment takes its deadlines from the admin's rule table, on the working-day calendar, and records the rule."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from feedback.models import Category, Channel, Urgency
from tasks import deadlines, services
from tasks.models import Action, CalendarDay, DeadlineRule, LimitUnit, State

from ..factories import TaskFactory

SHANGHAI = timezone.get_default_timezone()


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def eod(y, m, d):
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def rules(db):
    deadlines.ensure_default_rules()
    return {(r.category, r.urgency, r.channel): r for r in DeadlineRule.objects.all()}


def assign(cast, departments, *, now, **task_fields):
    task = TaskFactory(state=State.REGISTERED, **task_fields)
    return services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian, now=now)


def test_assignment_counts_working_days_over_national_day_and_the_adjusted_saturday(cast, departments, rules):
    # Thu 30 Sep 2021: 1–7 Oct off, Fri 8 Oct works, Sat 9 Oct works (调休), Sun 10 off, Mon 11 works.
    task = assign(cast, departments, now=at(2021, 9, 30, 16), category=Category.CONSULTATION)
    assert task.accept_deadline == eod(2021, 10, 8)
    assert task.deadline == eod(2021, 10, 11)  # 3 working days: 8, 9 and 11 Oct
    rule = rules[(Category.CONSULTATION, Urgency.NORMAL, "")]
    assert task.deadline_rule == rule
    event = task.events.get(action=Action.ASSIGN)
    assert (event.data["deadline_rule"], event.data["custom_deadline"]) == (rule.pk, False)


def test_an_admins_rule_and_calendar_entries_decide_the_deadline(cast, departments, rules):
    # 2027 is beyond the chinese-calendar package: the admin enters the holiday notice.
    rule = rules[(Category.HELP, Urgency.NORMAL, "")]
    rule.handle_amount = 7
    rule.save()
    before = assign(cast, departments, now=at(2026, 12, 30), category=Category.HELP)
    # Weekends only: Thu 31 Dec, Fri 1, Mon 4 … Fri 8 Jan.
    assert before.deadline == eod(2027, 1, 8)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    CalendarDay.objects.create(date=dt.date(2027, 1, 4), is_working_day=False, note="元旦调休")
    CalendarDay.objects.create(date=dt.date(2027, 1, 9), is_working_day=True, note="调休上班")
    after = assign(cast, departments, now=at(2026, 12, 30), category=Category.HELP)
    # Thu 31 Dec, Tue 5, Wed 6, Thu 7, Fri 8, Sat 9 (调休), Mon 11.
    assert after.deadline == eod(2027, 1, 11)
    assert after.deadline_rule == rule


def test_an_urgent_task_gets_hour_deadlines_through_the_night_and_the_holiday(cast, departments, rules):
    task = assign(cast, departments, now=at(2021, 9, 30, 22, 15), category=Category.COMPLAINT,
                  urgency=Urgency.URGENT)
    assert task.accept_deadline == at(2021, 10, 1, 0, 15)  # 2 hours
    assert task.deadline == at(2021, 10, 1, 22, 15)  # 24 hours, on a public holiday
    assert task.deadline_rule == rules[(Category.COMPLAINT, Urgency.URGENT, "")]


def test_an_urgent_rule_edited_to_other_hours_applies_at_the_next_assignment(cast, departments, rules):
    rule = rules[(Category.HELP, Urgency.URGENT, "")]
    rule.handle_amount, rule.handle_unit = 8, LimitUnit.HOURS
    rule.save()
    task = assign(cast, departments, now=at(2021, 10, 2, 9), category=Category.HELP, urgency=Urgency.URGENT)
    assert task.deadline == at(2021, 10, 2, 17)


def test_a_channel_rule_wins_and_is_the_one_recorded(cast, departments, rules):
    tv = DeadlineRule.objects.create(category=Category.COMPLAINT, urgency=Urgency.NORMAL, channel=Channel.TV,
                                     accept_amount=1, handle_amount=5, callback_amount=1)
    on_tv = assign(cast, departments, now=at(2021, 9, 13), category=Category.COMPLAINT, channel=Channel.TV)
    hotline = assign(cast, departments, now=at(2021, 9, 13), category=Category.COMPLAINT, channel=Channel.HOTLINE)
    assert (on_tv.deadline_rule, on_tv.deadline) == (tv, eod(2021, 9, 18))  # Sat 18 Sep 2021 is a 调休 working day
    assert (hotline.deadline_rule, hotline.deadline) == (rules[(Category.COMPLAINT, Urgency.NORMAL, "")],
                                                         eod(2021, 9, 30))


def test_the_supervisors_own_deadline_wins_and_no_rule_is_recorded(cast, departments, rules):
    task = TaskFactory(state=State.REGISTERED, category=Category.COMPLAINT)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian, deadline_days=2,
                         now=at(2021, 9, 30))
    assert task.deadline == eod(2021, 10, 9)  # Fri 8 Oct, then the working Saturday
    assert task.deadline_rule is None
    assert task.events.get(action=Action.ASSIGN).data["custom_deadline"] is True


def test_an_admin_edits_a_rule_in_the_django_admin(client, cast, departments, rules):
    rule = rules[(Category.SUGGESTION, Urgency.NORMAL, "")]
    client.force_login(cast.admin)
    response = client.post(reverse("admin:tasks_deadlinerule_change", args=[rule.pk]), {
        "category": rule.category, "urgency": rule.urgency, "channel": "",
        "accept_amount": 1, "accept_unit": LimitUnit.WORKING_DAYS,
        "handle_amount": 10, "handle_unit": LimitUnit.WORKING_DAYS,
        "callback_amount": 2, "callback_unit": LimitUnit.WORKING_DAYS,
    })
    assert response.status_code == 302, response.content.decode()[:1000]
    task = assign(cast, departments, now=at(2021, 9, 13), category=Category.SUGGESTION)
    # 10 working days from Mon 13 Sep 2021: 14–17, 18 (调休), 22–24, 26 (调休), 27.
    assert task.deadline == eod(2021, 9, 27)


def _rule_post(rule, **changes):
    data = {
        "category": rule.category, "urgency": rule.urgency, "channel": rule.channel,
        "accept_amount": rule.accept_amount, "accept_unit": rule.accept_unit,
        "handle_amount": rule.handle_amount, "handle_unit": rule.handle_unit,
        "callback_amount": rule.callback_amount, "callback_unit": rule.callback_unit,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, field, message", [
    ({"accept_amount": 0}, "accept_amount", "The acceptance limit must be from 1 to 250 working days; 0 was given."),
    ({"handle_amount": 0}, "handle_amount", "The handling limit must be from 1 to 250 working days; 0 was given."),
    ({"callback_amount": 0}, "callback_amount", "The callback limit must be from 1 to 250 working days; 0 was given."),
    ({"handle_amount": 900, "handle_unit": LimitUnit.HOURS}, "handle_amount",
     "The handling limit must be from 1 to 720 hours; 900 was given."),
    ({"accept_amount": 20}, "accept_amount",
     "The acceptance limit (20 working days) cannot be longer than the handling limit (15)."),
])
def test_the_admin_is_told_which_limit_is_wrong_and_nothing_is_saved(client, cast, rules, changes, field, message):
    from django.utils import translation

    rule = rules[(Category.SUGGESTION, Urgency.NORMAL, "")]
    before = DeadlineRule.objects.values().get(pk=rule.pk)
    client.force_login(cast.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        response = client.post(reverse("admin:tasks_deadlinerule_change", args=[rule.pk]), _rule_post(rule, **changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert DeadlineRule.objects.values().get(pk=rule.pk) == before


def test_the_rule_lists_inline_edit_saves_all_rows_or_none(client, cast, rules):
    from django.utils import translation

    first = rules[(Category.CONSULTATION, Urgency.NORMAL, "")]
    second = rules[(Category.HELP, Urgency.NORMAL, "")]
    rows = list(DeadlineRule.objects.order_by("category", "urgency", "channel"))
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows)), "_save": "Save"}
    for i, row in enumerate(rows):
        data[f"form-{i}-id"] = str(row.pk)
        for name in ("accept_amount", "accept_unit", "handle_amount", "handle_unit", "callback_amount",
                     "callback_unit"):
            data[f"form-{i}-{name}"] = str(getattr(row, name))
        if row.pk == first.pk:
            data[f"form-{i}-handle_amount"] = "4"  # valid
        if row.pk == second.pk:
            data[f"form-{i}-accept_amount"] = "0"  # invalid
    client.force_login(cast.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        response = client.post(reverse("admin:tasks_deadlinerule_changelist"), data)
    assert response.status_code == 200
    assert "The acceptance limit must be from 1 to 250 working days; 0 was given." in response.content.decode()
    first.refresh_from_db()
    assert first.handle_amount == 3  # the valid row was not saved either
