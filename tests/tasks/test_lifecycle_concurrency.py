"""Two officials click at once: the row lock lets exactly one step through (PostgreSQL only)."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import translation

from tasks import services
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent

from .test_lifecycle import NOW, english, place  # noqa: F401  (english: an autouse fixture)

pytestmark = pytest.mark.services


def _in_thread(fn, results, key):
    try:
        # The active language is per thread; messages are checked in English.
        with translation.override("en"):
            results[key] = fn()
    except Exception as exc:  # noqa: BLE001  (the test inspects whatever happened)
        results[key] = exc
    finally:
        connection.close()


def test_two_simultaneous_accepts_let_exactly_one_through(require_postgres, transactional_db, cast, departments):
    task = place(State.ASSIGNED, cast, departments)
    # Both threads hold an instance that still says "assigned", as two open browser tabs would.
    copies = {who: Task.objects.get(pk=task.pk) for who in ("handler", "head")}
    actors = {"handler": cast.handler_zhujian, "head": cast.head_zhujian}
    start, results = threading.Barrier(2), {}

    def accept(who):
        start.wait(timeout=10)
        return services.task_accept(actor=actors[who], task=copies[who], now=NOW)

    threads = [threading.Thread(target=_in_thread, args=(lambda w=who: accept(w), results, who)) for who in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    outcomes = sorted(type(result).__name__ for result in results.values())
    assert outcomes == ["DomainError", "Task"], results
    assert TaskEvent.objects.filter(task=task, action=Action.ACCEPT).count() == 1
    assert Task.objects.get(pk=task.pk).state == State.ACCEPTED


def test_the_second_click_waits_for_the_first_and_then_sees_its_state(
    require_postgres, transactional_db, cast, departments
):
    """Deterministic: the first transaction holds the lock until the second is already waiting on it."""
    task = place(State.ASSIGNED, cast, departments)
    stale = Task.objects.get(pk=task.pk)
    first_done, release, results = threading.Event(), threading.Event(), {}

    def first():
        with transaction.atomic():
            services.task_accept(actor=cast.handler_zhujian, task=Task.objects.get(pk=task.pk), now=NOW)
            first_done.set()
            release.wait(timeout=10)
        return "committed"

    def second():
        first_done.wait(timeout=10)
        return services.task_accept(actor=cast.head_zhujian, task=stale, now=NOW)

    threads = [threading.Thread(target=_in_thread, args=(fn, results, fn.__name__)) for fn in (first, second)]
    for thread in threads:
        thread.start()
    first_done.wait(timeout=10)
    # Give the second thread time to block on the row lock before the first commits.
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive(), "the second accept did not wait for the row lock"
    release.set()
    for thread in threads:
        thread.join(timeout=20)

    assert results["first"] == "committed"
    assert isinstance(results["second"], DomainError)
    assert "“accepted”" in str(results["second"])
    assert TaskEvent.objects.filter(task=task, action=Action.ACCEPT).count() == 1
