"""Tests of actions/record_pulse.py: eNPS, engagement and words, pseudonymously."""

from __future__ import annotations

from action_helpers import make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.record_pulse import ActionRecordPulse
from bot.feedback.query import query
from bot.services import Services

SENDER = "p_employee_hash"


async def test_pulse_is_recorded_as_two_linked_employee_rows(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "le logiciel plante tous les jours",
        intent="complain",
        entities=[("touchpoint", "tools")],
        slots={
            "enps": 7,
            "engagement": "3",
            "pulse_text": "le logiciel plante tous les jours",
            "language": "fr",
            "audience": "employee",
        },
        sender=SENDER,
    )

    events = await ActionRecordPulse().run(dispatcher, tracker, {})

    rows = {v.scale: v for v in query(conversation_id=SENDER)}
    assert set(rows) == {"enps", "engagement"}
    main, engagement = rows["enps"], rows["engagement"]
    assert (main.kind, main.audience, main.rating) == ("pulse", "employee", 7)
    assert main.text == "le logiciel plante tous les jours"
    assert main.touchpoint == "tools" and main.team == "it"
    assert (engagement.rating, engagement.parent_id) == (3, main.id)
    assert main.conversation_id == SENDER  # the pseudonym, nothing else identifies them
    assert responses(dispatcher) == ["utter_thanks_pulse"]
    assert slot_events(events)["enps"] is None and slot_events(events)["pulse_text"] is None


async def test_pulse_from_a_customer_tagged_conversation_is_still_an_employee_pulse(
    services: Services,
) -> None:
    tracker = make_tracker("rien à signaler", slots={"enps": 11, "pulse_text": "rien à signaler"})
    await ActionRecordPulse().run(CollectingDispatcher(), tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.audience == "employee"
    assert stored.rating is None  # 11 is off the eNPS scale: dropped, the words are kept
