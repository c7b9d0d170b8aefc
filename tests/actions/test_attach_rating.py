"""Tests of actions/attach_rating.py: a later rating joins the feedback it rates."""

from __future__ import annotations

from action_helpers import ANGRY, HAPPY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.attach_rating import ActionAttachRating
from bot.feedback.intake import Message, record
from bot.feedback.query import query
from bot.services import Services

SENDER = "p_0123456789abcdef"


async def _rate(rating: object, slots: dict[str, object]) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        f'/rate{{"rating": {rating}}}', intent="rate", entities=[("rating", rating)], slots=slots
    )
    return dispatcher, await ActionAttachRating().run(dispatcher, tracker, {})


async def test_rating_attaches_to_the_unprompted_feedback(services: Services) -> None:
    services.scorer = ANGRY
    first = record(Message(SENDER, "mon colis est arrivé écrasé", "fr", touchpoint="delivery"))

    dispatcher, events = await _rate(1, {"feedback_id": first.feedback_id, "language": "fr"})

    [stored] = query(conversation_id=SENDER)
    assert stored.id == first.feedback_id
    assert (stored.rating, stored.scale) == (1, "csat")
    assert responses(dispatcher) == ["utter_rating_recorded_low"]  # a 1/5 is not "thank you!"
    slots = slot_events(events)
    assert slots["feedback_negative"] is True
    assert slots["rating"] is None


async def test_nps_rating_uses_the_conversation_scale(services: Services) -> None:
    services.scorer = HAPPY
    first = record(Message(SENDER, "super service", "fr"))
    _, events = await _rate(9, {"feedback_id": first.feedback_id, "scale": "nps"})
    [stored] = query(conversation_id=SENDER)
    assert (stored.rating, stored.scale) == (9, "nps")
    assert slot_events(events)["feedback_negative"] is False


async def test_off_scale_rating_is_refused(services: Services) -> None:
    first = record(Message(SENDER, "bof", "fr"))
    dispatcher, events = await _rate(9, {"feedback_id": first.feedback_id})  # CSAT is 1-5
    assert responses(dispatcher) == ["utter_rating_invalid"]
    assert slot_events(events) == {"rating": None}
    [stored] = query(conversation_id=SENDER)
    assert stored.rating is None


async def test_rating_without_feedback_is_recorded_on_its_own(services: Services) -> None:
    dispatcher, events = await _rate("4", {"touchpoint": "store", "language": "en"})
    [stored] = query(conversation_id=SENDER)
    assert (stored.rating, stored.text) == (4, "")
    assert responses(dispatcher) == ["utter_rating_recorded"]
    assert slot_events(events)["feedback_id"] == stored.id


async def test_rating_for_a_vanished_feedback_is_not_lost(services: Services) -> None:
    _, events = await _rate(2, {"feedback_id": 999})
    [stored] = query(conversation_id=SENDER)
    assert stored.rating == 2
    assert slot_events(events)["feedback_id"] == stored.id
