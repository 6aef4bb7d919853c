"""Deadlines from the rule table: defaults, channel-narrowed rules, urgent hours, callbacks, assisting departments."""

import datetime as dt

import pytest
from django.utils import timezone

from feedback.models import Category, Channel, Urgency
from tasks import calendar, deadlines
from tasks.models import CalendarDay, DeadlineRule, LimitUnit

SHANGHAI = timezone.get_default_timezone()


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def eod(y, m, d):
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_caches():
    # The in-memory copies outlive each test's rolled-back transaction.
    calendar.invalidate_cache(everywhere=False)
    deadlines.invalidate_rule_cache(everywhere=False)
    yield
    calendar.invalidate_cache(everywhere=False)
    deadlines.invalidate_rule_cache(everywhere=False)


def stages(category, urgency=Urgency.NORMAL, channel=Channel.HOTLINE, start=None):
    return deadlines.stage_deadlines(category=category, urgency=urgency, channel=channel, start=start or at(2021, 9, 13))


def test_ensure_default_rules_creates_the_table_of_domain_md_once(db):
    assert deadlines.ensure_default_rules() == 10
    assert deadlines.ensure_default_rules() == 0
    table = {
        (r.category, r.urgency): (r.accept_amount, r.accept_unit, r.handle_amount, r.handle_unit, r.callback_amount)
        for r in DeadlineRule.objects.all()
    }
    wd, h = LimitUnit.WORKING_DAYS, LimitUnit.HOURS
    assert table == {
        ("consultation", "normal"): (1, wd, 3, wd, 2),
        ("help", "normal"): (1, wd, 5, wd, 2),
        ("complaint", "normal"): (1, wd, 13, wd, 2),
        ("suggestion", "normal"): (1, wd, 15, wd, 2),
        ("wrongdoing", "normal"): (1, wd, 15, wd, 2),
        **{(c, "urgent"): (2, h, 24, h, 1) for c in Category.values},
    }


def test_ensure_default_rules_keeps_an_admins_edit_and_restores_a_deleted_row(db):
    deadlines.ensure_default_rules()
    DeadlineRule.objects.filter(category="complaint", urgency="normal").update(handle_amount=10)
    DeadlineRule.objects.filter(category="help", urgency="normal").delete()
    assert deadlines.ensure_default_rules() == 1
    assert DeadlineRule.objects.get(category="complaint", urgency="normal").handle_amount == 10
    assert DeadlineRule.objects.get(category="help", urgency="normal").handle_amount == 5


# Assigned Mon 13 Sep 2021, 10:00: no holiday until the Mid-autumn Festival (Sep 20–21).
@pytest.mark.parametrize(
    "category, handle_day",
    [
        (Category.CONSULTATION, eod(2021, 9, 16)),  # 3 working days
        (Category.HELP, eod(2021, 9, 18)),  # 5: Tue–Fri, then Sat 18 Sep, a 调休 working day
        # 13: past Mid-autumn (Sep 20–21 off) and the working Sunday Sep 26.
        (Category.COMPLAINT, eod(2021, 9, 30)),
        # 15: then over National Day (Oct 1–7 off) to Fri Oct 8 and the working Saturday Oct 9.
        (Category.SUGGESTION, eod(2021, 10, 9)),
        (Category.WRONGDOING, eod(2021, 10, 9)),
    ],
)
@pytest.mark.parametrize("from_table", [True, False], ids=["table", "built-in"])
def test_each_default_rule(db, category, handle_day, from_table):
    if from_table:
        deadlines.ensure_default_rules()
    result = stages(category)
    assert result.accept == eod(2021, 9, 14)
    assert result.handle == handle_day
    if from_table:
        assert result.rule == DeadlineRule.objects.get(category=category, urgency="normal", channel="")
    else:
        assert result.rule is None


def test_one_working_day_from_a_friday_a_weekend_or_a_holiday(db):
    # Friday → Monday; Saturday and Sunday → Monday too.
    assert stages(Category.HELP, start=at(2021, 11, 5, 16)).accept == eod(2021, 11, 8)
    assert stages(Category.HELP, start=at(2021, 11, 6)).accept == eod(2021, 11, 8)
    assert stages(Category.HELP, start=at(2021, 11, 7, 23, 30)).accept == eod(2021, 11, 8)
    # The last day before National Day 2021, and a day inside it: the first working day after.
    assert stages(Category.HELP, start=at(2021, 9, 30, 17)).accept == eod(2021, 10, 8)
    assert stages(Category.HELP, start=at(2021, 10, 3)).accept == eod(2021, 10, 8)
    # Friday 8 Oct → Saturday 9 Oct, an adjusted working day (调休).
    assert stages(Category.HELP, start=at(2021, 10, 8, 9)).accept == eod(2021, 10, 9)


def test_a_start_is_counted_on_its_shanghai_date(db):
    # 2021-09-30 17:30 UTC is already 1 Oct in Shanghai (a holiday).
    start = dt.datetime(2021, 9, 30, 17, 30, tzinfo=dt.timezone.utc)
    assert stages(Category.HELP, start=start).accept == eod(2021, 10, 8)


def test_a_channel_narrowed_rule_wins_over_the_general_one(db):
    deadlines.ensure_default_rules()
    tv = DeadlineRule.objects.create(
        category=Category.COMPLAINT,
        urgency=Urgency.NORMAL,
        channel=Channel.TV,
        accept_amount=1,
        handle_amount=5,
        callback_amount=1,
    )
    result = stages(Category.COMPLAINT, channel=Channel.TV)
    assert result.rule == tv
    assert result.handle == eod(2021, 9, 18)
    general = stages(Category.COMPLAINT, channel=Channel.HOTLINE)
    assert general.rule.channel == "" and general.handle == eod(2021, 9, 30)
    assert deadlines.callback_deadline(
        category=Category.COMPLAINT, urgency=Urgency.NORMAL, channel=Channel.TV, replied_at=at(2021, 9, 13)
    ) == eod(2021, 9, 14)


def test_urgent_items_have_clock_hours(db):
    start = at(2021, 9, 30, 22, 15)  # the night before a week of holidays
    for from_table in (False, True):
        if from_table:
            deadlines.ensure_default_rules()
        result = stages(Category.COMPLAINT, urgency=Urgency.URGENT, start=start)
        assert result.accept == at(2021, 10, 1, 0, 15)
        assert result.handle == at(2021, 10, 1, 22, 15)
        assert (result.rule is not None) is from_table
    # Callback: 1 working day after the reply.
    assert deadlines.callback_deadline(
        category=Category.HELP, urgency=Urgency.URGENT, channel=Channel.PORTAL, replied_at=at(2021, 10, 1, 22)
    ) == eod(2021, 10, 8)


def test_callback_is_two_working_days_after_the_reply(db):
    assert deadlines.callback_deadline(
        category=Category.SUGGESTION, urgency=Urgency.NORMAL, channel="", replied_at=at(2021, 9, 29, 15)
    ) == eod(2021, 10, 8)


def test_an_edited_rule_applies_at_once(db):
    deadlines.ensure_default_rules()
    assert stages(Category.CONSULTATION).handle == eod(2021, 9, 16)
    rule = DeadlineRule.objects.get(category=Category.CONSULTATION, urgency=Urgency.NORMAL, channel="")
    rule.handle_amount = 1
    rule.save()
    assert stages(Category.CONSULTATION).handle == eod(2021, 9, 14)
    rule.handle_unit = LimitUnit.HOURS
    rule.handle_amount = 8
    rule.save()
    assert stages(Category.CONSULTATION).handle == at(2021, 9, 13, 18)


def test_a_holiday_entered_by_the_admin_moves_the_deadline(db):
    CalendarDay.objects.create(date=dt.date(2021, 9, 14), is_working_day=False, note="flood")
    assert stages(Category.HELP).accept == eod(2021, 9, 15)


def test_deadlines_from_late_december_2026_into_2027(db):
    # 2027 is not in the package: weekends only, plus the admin's entries.
    result = stages(Category.CONSULTATION, start=at(2026, 12, 30, 16))
    assert result.accept == eod(2026, 12, 31)
    assert result.handle == eod(2027, 1, 4)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    assert stages(Category.CONSULTATION, start=at(2026, 12, 30, 16)).handle == eod(2027, 1, 5)


def test_deadline_in_working_days_and_from_a_date(db):
    assert deadlines.deadline_in_working_days(start=at(2021, 9, 30), days=1) == eod(2021, 10, 8)
    assert deadlines.deadline_in_working_days(start=at(2021, 9, 30), days=2) == eod(2021, 10, 9)
    assert deadlines.deadline_from_date(dt.date(2021, 10, 25)) == eod(2021, 10, 25)
    with pytest.raises(ValueError, match="at least 1 working day"):
        deadlines.deadline_in_working_days(start=at(2021, 9, 30), days=0)
    with pytest.raises(TypeError, match="expected a date"):
        deadlines.deadline_from_date("2021-10-25")


def test_assist_deadline_is_two_working_days_before_the_leads(db):
    # Lead due Mon 11 Oct 2021: two working days before is Fri 8 Oct (Sat 9 Oct works, so: 9 Oct is 1, 8 Oct is 2).
    assert deadlines.assist_deadline(lead_deadline=eod(2021, 10, 11)) == eod(2021, 10, 8)
    # Lead due Fri 8 Oct: back across the holiday to Wed 29 Sep.
    assert deadlines.assist_deadline(lead_deadline=eod(2021, 10, 8)) == eod(2021, 9, 29)


def test_assist_deadline_is_never_before_the_assisting_department_could_begin(db):
    start = at(2021, 9, 13)
    lead = stages(Category.CONSULTATION, start=start).handle  # Thu 16 Sep
    assert deadlines.assist_deadline(lead_deadline=lead, start=start) == eod(2021, 9, 14)
    short = deadlines.deadline_in_working_days(start=start, days=2)  # Wed 15 Sep
    assert deadlines.assist_deadline(lead_deadline=short, start=start) == short
    urgent = stages(Category.CONSULTATION, urgency=Urgency.URGENT, start=start).handle
    assert deadlines.assist_deadline(lead_deadline=urgent, start=start) == urgent


def test_bad_input_is_named(db):
    with pytest.raises(ValueError, match="unknown category 'gossip'"):
        stages("gossip")
    with pytest.raises(ValueError, match="unknown urgency 'asap'"):
        stages(Category.HELP, urgency="asap")
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        stages(Category.HELP, channel="fax")
    with pytest.raises(ValueError, match="must be timezone-aware"):
        stages(Category.HELP, start=dt.datetime(2021, 9, 13, 10))


def test_rules_are_read_once_not_per_deadline(db, django_assert_num_queries):
    deadlines.ensure_default_rules()
    stages(Category.HELP)
    with django_assert_num_queries(0):
        for day in range(1, 29):
            for category in Category.values:
                stages(category, start=at(2021, 2, day))
