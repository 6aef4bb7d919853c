"""TV accountability episodes: problems raised become assigned tasks (task list, reminders, report card),
mechanisms with documents, accountability suggestions, totals, and the pages' department scope."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Channel, Suggestion
from tasks import projects
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent, TvEpisode
from tasks.models.projects import AccountabilitySuggestion, Mechanism
from tasks.models.reminders import Notification, ReminderLevel
from tasks.reminders import reminders_send_due
from tasks.reportcards import for_department, periods, report_card
from tasks.selectors import tasks_visible_to

from ..factories import DepartmentFactory
from .test_projects import PDF, media, stored_files, upload  # noqa: F401  (fixture)

AIRED = dt.date(2021, 11, 11)  # a Thursday
RAISED = timezone.make_aware(dt.datetime(2021, 11, 12, 9, 0))  # Friday morning


def at(day: str, time: str = "09:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def episode(cast, departments):
    return projects.episode_create(
        actor=cast.supervisor, aired_on=AIRED, title="电视问政第五期：城市管理",
        departments=[departments.zhujian, departments.chengguan],
    )


def raise_problem(cast, departments, episode, township, **kwargs):
    values = {"department": departments.zhujian, "content": "小区楼道灯长期不亮，多次反映无人处理", "now": RAISED}
    values.update(kwargs)
    return projects.episode_raise_problem(actor=cast.supervisor, episode=episode, township=township, **values)


# --- A problem raised becomes a task of the questioned department -----------------------


def test_a_problem_raised_is_registered_from_tv_and_assigned_with_a_deadline(cast, departments, episode, township):
    task = raise_problem(cast, departments, episode, township, deadline_days=5, note="节目现场承诺一周内解决")
    task.refresh_from_db()
    assert (task.state, task.lead_department, task.episode, task.channel) == (
        State.ASSIGNED, departments.zhujian, episode, Channel.TV,
    )
    assert task.assigned_at == RAISED
    assert timezone.localtime(task.deadline).date() == dt.date(2021, 11, 19)  # 5 working days from Friday
    suggestion = Suggestion.objects.get(task=task)
    # Received when the episode aired that evening, registered by the supervisor the next morning.
    assert timezone.localtime(suggestion.received_at) == at("2021-11-11", "20:00")
    assert suggestion.registered_by == cast.supervisor and suggestion.tracking_number.startswith("DZ20211111")
    timeline = list(TaskEvent.objects.filter(task=task).order_by("at", "pk").values_list("action", "note"))
    assert timeline == [(Action.REGISTER, ""), (Action.ASSIGN, "节目现场承诺一周内解决")]


def test_without_a_deadline_the_category_rule_applies(cast, departments, episode, township):
    task = raise_problem(cast, departments, episode, township)
    # A complaint (投诉): 13 working days from Friday 12 Nov is Wednesday 1 Dec.
    assert timezone.localtime(task.deadline).date() == dt.date(2021, 12, 1)


def test_the_problem_appears_in_the_departments_task_list(client, cast, departments, episode, township):
    task = raise_problem(cast, departments, episode, township, deadline_days=5)
    assert tasks_visible_to(cast.handler_zhujian).filter(pk=task.pk).exists()
    assert not tasks_visible_to(cast.handler_chengguan).filter(pk=task.pk).exists()
    client.force_login(cast.handler_zhujian)
    response = client.get(reverse("tasks:list"))
    assert response.status_code == 200
    assert task.pk in {row.record.pk for row in response.context["table"].page}
    assert f'data-task-id="{task.pk}"' in response.content.decode()
    client.force_login(cast.handler_chengguan)
    response = client.get(reverse("tasks:list"))
    assert task.pk not in {row.record.pk for row in response.context["table"].page}


def test_the_problem_gets_the_deadline_reminders(cast, departments, episode, township):
    task = raise_problem(cast, departments, episode, township, deadline_days=5)  # due Friday 19 Nov
    reminders_send_due(now=at("2021-11-18"))
    assert set(Notification.objects.filter(task=task).values_list("level", "recipient__username")) == {
        (ReminderLevel.DUE_SOON, "handler-zhujian"),
    }
    # Past its deadline: the first working day after is "overdue", to the head and the supervision office.
    reminders_send_due(now=at("2021-11-22"))
    overdue = set(Notification.objects.filter(task=task, level=ReminderLevel.OVERDUE).values_list(
        "recipient__username", flat=True))
    assert overdue == {"head-zhujian", "supervisor"}
    reminders_send_due(now=at("2021-11-22", "10:00"))
    assert Notification.objects.filter(task=task, level=ReminderLevel.OVERDUE).count() == 2  # once


def test_the_problem_counts_in_the_departments_report_card(cast, departments, episode, township):
    raise_problem(cast, departments, episode, township, deadline_days=5)
    raise_problem(cast, departments, episode, township, content="路面塌陷", deadline_days=3)
    raise_problem(cast, departments, episode, township, department=departments.chengguan, content="占道经营")
    november = periods.month(2021, 11)
    now = at("2021-11-30", "12:00")
    assert report_card(for_department(departments.zhujian), november, now=now)["assigned"] == 2
    assert report_card(for_department(departments.chengguan), november, now=now)["assigned"] == 1
    assert report_card(for_department(departments.zhujian), november, now=now)["overdue"] == 2


def test_a_township_offices_problem_defaults_to_its_township(cast, departments, township):
    office = DepartmentFactory(name="留早镇政府", code="liuzao", kind="township", township=township)
    episode = projects.episode_create(actor=cast.supervisor, aired_on=AIRED, title="第七期", departments=[office])
    task = raise_problem(cast, departments, episode, None, department=office)
    assert task.township == township and task.lead_department == office


@pytest.mark.parametrize(
    "who, changes, match",
    [
        ("handler_zhujian", {}, "may not raise problems from TV accountability episodes"),
        ("leader", {}, "may not raise problems"),
        ("supervisor", {"department": "other"}, "was not questioned in"),
        ("supervisor", {"township": None}, "Choose the township"),
        ("supervisor", {"content": "   "}, "The content is empty"),
        ("supervisor", {"now": at("2021-11-10")}, "The episode airs on 2021-11-11"),
    ],
)
def test_raising_a_problem_is_refused_with_a_reason(cast, departments, episode, township, who, changes, match):
    values = {"department": departments.zhujian, "township": township, "content": "问题", "now": RAISED}
    values.update(changes)
    if values["department"] == "other":
        values["department"] = DepartmentFactory(name="水利局", code="shuili")
    with pytest.raises(DomainError, match=match):
        projects.episode_raise_problem(actor=getattr(cast, who), episode=episode, **values)
    assert Task.objects.count() == 0 and Suggestion.objects.count() == 0


def test_a_failed_assignment_leaves_no_half_registered_task(cast, departments, episode, township):
    with pytest.raises(DomainError, match="has already passed"):
        raise_problem(cast, departments, episode, township, deadline=dt.date(2021, 11, 1))
    assert Task.objects.count() == 0 and Suggestion.objects.count() == 0


# --- Episodes, mechanisms, accountability ------------------------------------------------


def test_only_supervisors_record_episodes_and_dates_are_unique(cast, departments, episode):
    with pytest.raises(DomainError, match="may not record TV accountability episodes"):
        projects.episode_create(actor=cast.leader, aired_on=dt.date(2021, 12, 1), title="x",
                                departments=[departments.zhujian])
    with pytest.raises(DomainError, match="An episode aired on 2021-11-11 is already recorded"):
        projects.episode_create(actor=cast.supervisor, aired_on=AIRED, title="x", departments=[departments.zhujian])
    with pytest.raises(DomainError, match="runs the show and cannot be questioned"):
        projects.episode_create(actor=cast.supervisor, aired_on=dt.date(2021, 12, 1), title="x",
                                departments=[departments.supervision])
    with pytest.raises(DomainError, match="Choose at least one department"):
        projects.episode_create(actor=cast.supervisor, aired_on=dt.date(2021, 12, 1), title="x", departments=[])
    assert TvEpisode.objects.count() == 1


def test_mechanisms_with_documents_are_checked_and_served_only_within_scope(
    client, cast, departments, episode, media
):
    mechanism = projects.mechanism_add(
        actor=cast.head_zhujian, episode=episode, department=departments.zhujian, title="老旧小区改造居民议事机制",
        established_on=dt.date(2021, 11, 20), document=upload("机制.pdf", PDF, "application/pdf"),
    )
    assert (mechanism.document_name, mechanism.document_type) == ("机制.pdf", "application/pdf")
    assert Path(mechanism.document.path).is_relative_to(media / "mechanisms")
    url = reverse("tasks:mechanism_document", args=[mechanism.pk])
    for role, status in [("head_zhujian", 200), ("handler_zhujian", 200), ("supervisor", 200), ("leader", 200),
                         ("handler_chengguan", 404), ("registrar", 404)]:
        client.force_login(getattr(cast, role))
        response = client.get(url)
        assert response.status_code == status, role
        if status == 200:
            assert b"".join(response.streaming_content) == PDF
    with translation.override("en"), pytest.raises(DomainError, match="Only the supervision office or the head of 住建局"):
        projects.mechanism_add(actor=cast.head_chengguan, episode=episode, department=departments.zhujian,
                               title="x", established_on=dt.date(2021, 11, 20))
    with translation.override("en"), pytest.raises(DomainError, match="is not a JPEG, PNG or WebP image or a PDF"):
        projects.mechanism_add(actor=cast.supervisor, episode=episode, department=departments.chengguan,
                               title="y", established_on=dt.date(2021, 11, 20),
                               document=upload("机制.pdf", b"PK\x03\x04 a Word file"))
    assert Mechanism.objects.count() == 1 and len(stored_files(media)) == 1


def test_accountability_suggestions_and_the_commissions_answer(cast, departments, episode, township):
    task = raise_problem(cast, departments, episode, township)
    suggestion = projects.accountability_suggest(
        actor=cast.supervisor, episode=episode, department=departments.zhujian, task=task,
        text="对敷衍整改的责任人启动问责", now=RAISED,
    )
    assert suggestion.status == AccountabilitySuggestion.Status.SUBMITTED
    with pytest.raises(DomainError, match=f"Task #{task.pk} is not led by 城管局"):
        projects.accountability_suggest(actor=cast.supervisor, episode=episode, department=departments.chengguan,
                                        task=task, text="x")
    with pytest.raises(DomainError, match="may not send accountability suggestions"):
        projects.accountability_suggest(actor=cast.leader, episode=episode, department=departments.zhujian, text="x")
    projects.accountability_suggestion_decide(actor=cast.supervisor, suggestion=suggestion, status="accepted",
                                              note="已立案", now=at("2021-12-01"))
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decision_note) == ("accepted", "已立案")
    with pytest.raises(DomainError, match="already recorded"):
        projects.accountability_suggestion_decide(actor=cast.supervisor, suggestion=suggestion, status="declined")


def test_episode_totals_count_questionings_problems_and_mechanisms(cast, departments, episode, township):
    second = projects.episode_create(actor=cast.supervisor, aired_on=dt.date(2021, 12, 9), title="第六期",
                                     departments=[departments.zhujian])
    raise_problem(cast, departments, episode, township)
    closed = raise_problem(cast, departments, episode, township, department=departments.chengguan, content="占道")
    Task.objects.filter(pk=closed.pk).update(state=State.CLOSED)
    raise_problem(cast, departments, second, township, now=at("2021-12-10"))
    Mechanism.objects.create(episode=episode, department=departments.chengguan, title="m",
                             established_on=dt.date(2021, 11, 30))
    projects.accountability_suggest(actor=cast.supervisor, episode=second, department=departments.zhujian, text="问责")
    assert projects.episode_totals() == projects.EpisodeTotals(
        episodes=2, departments_questioned=3, problems_raised=3, problems_closed=1, mechanisms=1,
        accountability_suggestions=1,
    )
    assert projects.episode_totals(first=dt.date(2021, 11, 1), last=dt.date(2021, 11, 30)) == projects.EpisodeTotals(
        episodes=1, departments_questioned=2, problems_raised=2, problems_closed=1, mechanisms=1,
        accountability_suggestions=0,
    )
    assert projects.episode_totals(department_id=departments.zhujian.pk) == projects.EpisodeTotals(
        episodes=2, departments_questioned=2, problems_raised=2, problems_closed=0, mechanisms=0,
        accountability_suggestions=1,
    )


# --- Pages ------------------------------------------------------------------------------


def test_episode_pages_keep_the_department_scope(client, cast, departments, episode, township):
    mine = raise_problem(cast, departments, episode, township)
    theirs = raise_problem(cast, departments, episode, township, department=departments.chengguan, content="占道")
    other = projects.episode_create(actor=cast.supervisor, aired_on=dt.date(2021, 12, 9), title="第六期",
                                    departments=[departments.chengguan])
    projects.accountability_suggest(actor=cast.supervisor, episode=episode, department=departments.zhujian, text="问责")
    client.force_login(cast.handler_zhujian)
    listed = client.get(reverse("tasks:episodes"))
    assert [e.pk for e in listed.context["page"].object_list] == [episode.pk]
    assert client.get(reverse("tasks:episode_detail", args=[other.pk])).status_code == 404
    page = client.get(reverse("tasks:episode_detail", args=[episode.pk]))
    assert [t.pk for t in page.context["problems"]] == [mine.pk]
    assert page.context["suggestions"] == [] and b"episode-accountability" not in page.content
    assert b'id="episode-actions"' not in page.content  # a handler records nothing here

    client.force_login(cast.leader)
    page = client.get(reverse("tasks:episode_detail", args=[episode.pk]))
    assert {t.pk for t in page.context["problems"]} == {mine.pk, theirs.pk}
    assert len(page.context["suggestions"]) == 1
    client.force_login(cast.registrar)
    assert client.get(reverse("tasks:episode_detail", args=[episode.pk])).status_code == 404


def test_a_supervisor_raises_a_problem_through_the_page(client, cast, departments, episode, township):
    client.force_login(cast.supervisor)
    deadline = timezone.localdate() + dt.timedelta(days=20)
    response = client.post(reverse("tasks:episode_action", args=[episode.pk, "problem"]), {
        "department": departments.chengguan.pk, "township": township.pk, "content": "夜市占道经营扰民",
        "category": "complaint", "urgency": "normal", "deadline": deadline.isoformat(), "note": "",
    })
    assert response.status_code == 302
    task = Task.objects.get(episode=episode)
    assert (task.lead_department, task.state) == (departments.chengguan, State.ASSIGNED)
    assert timezone.localtime(task.deadline).date() == deadline
    page = client.get(reverse("tasks:episode_detail", args=[episode.pk]))
    assert f'data-task-id="{task.pk}"' in page.content.decode()


def test_a_supervisor_records_an_episode_through_the_page(client, cast, departments):
    client.force_login(cast.supervisor)
    response = client.post(reverse("tasks:episode_create"), {
        "aired_on": "2021-06-24", "title": "第一期", "departments": [departments.zhujian.pk, departments.chengguan.pk],
    })
    episode = TvEpisode.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("tasks:episode_detail", args=[episode.pk])
    client.force_login(cast.head_zhujian)
    assert client.post(reverse("tasks:episode_create"), {"aired_on": "2021-06-25", "title": "x",
                                                        "departments": [departments.zhujian.pk]}).status_code == 403
    assert TvEpisode.objects.count() == 1


def test_episode_pages_query_counts_do_not_grow_with_rows(client, cast, departments, township):
    client.force_login(cast.supervisor)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = projects.episode_create(actor=cast.supervisor, aired_on=AIRED, title="e0",
                                    departments=[departments.zhujian])
    raise_problem(cast, departments, first, township)
    few = count(reverse("tasks:episodes")), count(reverse("tasks:episode_detail", args=[first.pk]))
    for n in range(1, 6):
        episode = projects.episode_create(actor=cast.supervisor, aired_on=AIRED + dt.timedelta(days=n), title=f"e{n}",
                                          departments=[departments.zhujian, departments.chengguan])
        raise_problem(cast, departments, episode, township, now=RAISED + dt.timedelta(days=n))
    for n in range(4):
        raise_problem(cast, departments, first, township, department=departments.zhujian, content=f"问题{n}")
        Mechanism.objects.create(episode=first, department=departments.zhujian, title=f"m{n}",
                                 established_on=AIRED)
        projects.accountability_suggest(actor=cast.supervisor, episode=first, department=departments.zhujian,
                                        text=f"问责{n}")
    many = count(reverse("tasks:episodes")), count(reverse("tasks:episode_detail", args=[first.pk]))
    assert many == few, (few, many)
