"""Tests of actions/unclear_message.py: another language, or a touchpoint named in a message NLU
was unsure of, is feedback; the rest gets the usual answer."""

from __future__ import annotations

from action_helpers import ANGRY, HAPPY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.unclear_message import ActionUnclearMessage
from bot.feedback.query import query
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


async def test_an_unsure_message_that_names_a_touchpoint_is_recorded(services: Services) -> None:
    services.scorer = ANGRY
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "Bonjour, ma livraison kill 85 est arrivée en retard et le colis était abîmé",
        intent="nlu_fallback",
        slots={"language": "fr"},
        message_id="m-85",
    )
    events = await ActionUnclearMessage().run(dispatcher, tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.touchpoint, stored.team, stored.sentiment_label, stored.language) == (
        "delivery",
        "logistics",
        "negative",
        "fr",
    )
    assert responses(dispatcher) == ["utter_feedback_negative"]
    assert slot_events(events) == {"feedback_id": stored.id, "touchpoint": "delivery"}


async def test_an_unsure_english_message_uses_its_touchpoint_entity(services: Services) -> None:
    services.scorer = HAPPY
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "the invoice zz 12 was clear",
        intent="nlu_fallback",
        entities=[("touchpoint", "billing")],
        slots={"language": "en"},
    )
    await ActionUnclearMessage().run(dispatcher, tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.touchpoint, stored.language, stored.sentiment_label) == (
        "billing",
        "en",
        "positive",
    )
    assert responses(dispatcher) == ["utter_feedback_positive"]


async def test_out_of_scope_naming_a_touchpoint_is_not_feedback(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("peux-tu me livrer une pizza ?", intent="out_of_scope")
    assert await ActionUnclearMessage().run(dispatcher, tracker, {}) == []
    assert responses(dispatcher) == ["utter_out_of_scope"]
    assert query(conversation_id="p_0123456789abcdef") == []
