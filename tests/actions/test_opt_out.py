"""Tests of actions/opt_out.py: "stop" refuses every purpose for every channel of the person."""

from __future__ import annotations

from action_helpers import make_tracker, responses
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.opt_out import ActionOptOut
from bot.privacy.persons import find_by_conversation
from bot.services import Services
from bot.storage.models import ConsentRecord

SENDER = "p_" + "ab" * 16


async def test_stop_records_the_opt_out_and_says_so(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"language": "fr", "channel": "telegram"}
    tracker = make_tracker("STOP", intent="stop", slots=slots, sender=SENDER)

    events = await ActionOptOut().run(dispatcher, tracker, {})

    assert events == []
    assert responses(dispatcher) == ["utter_stop"]
    with services.sessions() as session:
        person = find_by_conversation(session=session, conversation_id=SENDER)
        assert person is not None
        consents = session.scalars(
            select(ConsentRecord).where(ConsentRecord.person_id == person.id)
        ).all()
    assert {(c.purpose, c.granted, c.source) for c in consents} == {
        ("surveys", False, "opt_out:telegram"), ("followup", False, "opt_out:telegram"),
    }  # fmt: skip


async def test_a_database_failure_is_admitted(services: Services) -> None:
    services.engine.dispose()
    services.sessions.configure(bind=None)  # no database any more
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("unsubscribe", intent="stop", slots={"language": "en"}, sender=SENDER)

    await ActionOptOut().run(dispatcher, tracker, {})

    assert responses(dispatcher) == ["utter_opt_out_failed"]
