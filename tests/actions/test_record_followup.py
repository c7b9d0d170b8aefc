"""Tests of actions/record_followup.py: the follow-up answer is linked to its feedback."""

from __future__ import annotations

from action_helpers import ANGRY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.record_followup import ActionRecordFollowup
from bot.feedback.intake import Message, record
from bot.feedback.query import query
from bot.services import Services

SENDER = "p_0123456789abcdef"


async def test_followup_is_recorded_with_its_parent(services: Services) -> None:
    services.scorer = ANGRY
    parent = record(Message(SENDER, "le livreur a été impoli", "fr", touchpoint="delivery"))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "un peu de politesse",
        intent="complain",
        slots={
            "followup": "un peu de politesse",
            "feedback_id": parent.feedback_id,
            "touchpoint": "delivery",
            "language": "fr",
        },
    )

    events = await ActionRecordFollowup().run(dispatcher, tracker, {})

    followup = next(v for v in query(conversation_id=SENDER) if v.kind == "followup")
    assert followup.parent_id == parent.feedback_id
    assert followup.text == "un peu de politesse"
    assert followup.touchpoint == "delivery"
    assert responses(dispatcher) == ["utter_thanks_followup"]
    assert slot_events(events) == {"followup": None}


async def test_followup_without_parent_is_still_recorded(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("a refund", slots={"language": "en"})
    await ActionRecordFollowup().run(dispatcher, tracker, {})
    [stored] = query(conversation_id=SENDER)
    assert (stored.kind, stored.parent_id, stored.text) == ("followup", None, "a refund")
