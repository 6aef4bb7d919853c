"""Who sees which report card: leaders, supervisors and admins all; a head the own department's; others none."""

from django.contrib.auth.models import AnonymousUser

from tasks.reportcards import (
    city,
    for_department,
    for_township,
    reportcard_home_scope,
    reportcard_rankings_visible_to,
    reportcard_visible_to,
)


def _scopes(departments, township):
    return {
        "city": city(),
        "zhujian": for_department(departments.zhujian),
        "chengguan": for_department(departments.chengguan),
        "township": for_township(township),
    }


def test_the_admin_role_sees_no_card(cast, departments, township):
    # Cards link to the tasks they count; the admin role reads no task (least privilege).
    for name, scope in _scopes(departments, township).items():
        assert not reportcard_visible_to(cast.admin, scope), name
    assert not reportcard_rankings_visible_to(cast.admin)


def test_leaders_and_supervisors_see_every_card(cast, departments, township):
    for user in (cast.leader, cast.supervisor):
        for name, scope in _scopes(departments, township).items():
            assert reportcard_visible_to(user, scope), (user, name)
        assert reportcard_rankings_visible_to(user)
        assert reportcard_home_scope(user) == city()


def test_a_department_head_sees_only_the_own_departments_card(cast, departments, township):
    visible = {name for name, scope in _scopes(departments, township).items()
               if reportcard_visible_to(cast.head_zhujian, scope)}
    assert visible == {"zhujian"}
    assert not reportcard_rankings_visible_to(cast.head_zhujian)
    assert reportcard_home_scope(cast.head_zhujian) == for_department(departments.zhujian)
    assert reportcard_home_scope(cast.head_chengguan) == for_department(departments.chengguan)


def test_handlers_and_registrars_see_no_card(cast, departments, township):
    for user in (cast.handler_zhujian, cast.handler_chengguan, cast.registrar, cast.outsider, AnonymousUser()):
        for name, scope in _scopes(departments, township).items():
            assert not reportcard_visible_to(user, scope), (user, name)
        assert not reportcard_rankings_visible_to(user)
        assert reportcard_home_scope(user) is None


def test_an_inactive_leader_sees_nothing(cast, departments, township):
    cast.leader.is_active = False
    cast.head_zhujian.is_active = False
    assert not reportcard_visible_to(cast.leader, city())
    assert not reportcard_visible_to(cast.head_zhujian, for_department(departments.zhujian))
    assert reportcard_home_scope(cast.leader) is None
