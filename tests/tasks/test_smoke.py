from tasks.models import State

from ..factories import SuggestionFactory


def test_a_suggestion_opens_a_registered_task(db):
    suggestion = SuggestionFactory()
    assert suggestion.task.state == State.REGISTERED
    assert suggestion.task.suggestions.count() == 1
    assert suggestion.masked_phone == "138****5678"
    assert len(suggestion.tracking_number) == 18
