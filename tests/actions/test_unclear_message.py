"""Tests of actions/unclear_message.py: another language is feedback, the rest the usual answer."""

from __future__ import annotations

from action_helpers import ANGRY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.unclear_message import ActionUnclearMessage
from bot.feedback import query
from bot.services import Services


async def test_another_language_is_recorded_and_answered_in_both(services: Services) -> None:
    services.scorer = ANGRY
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "Ich bin sehr unzufrieden mit der Lieferung",
        intent="out_of_scope",
        slots={"language": "en"},
    )
    events = await ActionUnclearMessage().run(dispatcher, tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.language == "other" and stored.team == "customer_care"
    assert responses(dispatcher) == ["utter_other_language"]
    assert slot_events(events)["feedback_id"] == stored.id


async def test_french_or_english_gets_the_usual_answer_and_nothing_stored(
    services: Services,
) -> None:
    for text, intent, expected in (
        ("quelle heure est-il à Tokyo ?", "out_of_scope", "utter_out_of_scope"),
        ("blorp", "nlu_fallback", "utter_default"),
        ("", "nlu_fallback", "utter_default"),
    ):
        dispatcher = CollectingDispatcher()
        assert (
            await ActionUnclearMessage().run(dispatcher, make_tracker(text, intent=intent), {})
            == []
        )
        assert responses(dispatcher) == [expected]
    assert query(conversation_id="p_0123456789abcdef") == []
