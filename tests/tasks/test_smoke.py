from tasks.models import State

from ..factories import SuggestionFactory


def test_a_suggestion_opens_a_registered_task(db):
    suggestion = SuggestionFactory()
    assert suggestion.task.state == State.REGISTERED
    assert suggestion.task.suggestions.count() == 1
    assert suggestion.masked_phone == "138****5678"
    assert len(suggestion.tracking_number) == 18


def test_a_registered_task_offers_the_supervisor_the_dispatch_steps(cast):
    from tasks.services import available_actions

    task = SuggestionFactory().task
    assert available_actions(task, cast.supervisor) == ["report", "assign", "supervise", "merge"]
    assert available_actions(task, cast.handler_zhujian) == []
