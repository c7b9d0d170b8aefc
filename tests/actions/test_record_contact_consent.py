"""Tests of actions/record_contact_consent.py: the answer to "may we tell you?" is stored."""

from __future__ import annotations

import pytest
from action_helpers import make_tracker, responses
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.record_contact_consent import ActionRecordContactConsent
from bot.contact.routes import save_route
from bot.services import Services
from bot.storage.engine import make_engine
from bot.storage.models import ContactRouteRecord


async def _run(intent: str, **slots: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/" + intent, intent=intent, slots=slots, sender="p_tg")
    assert await ActionRecordContactConsent().run(dispatcher, tracker, {}) == []
    return dispatcher


def _route(services: Services) -> ContactRouteRecord:
    with services.sessions() as session:
        return session.scalars(select(ContactRouteRecord)).one()


@pytest.mark.parametrize(
    ("intent", "consent", "reply"),
    [("affirm", True, "utter_contact_yes"), ("deny", False, "utter_contact_no")],
)
async def test_telegram_answer_is_stored_on_the_route(
    services: Services, intent: str, consent: bool, reply: str
) -> None:
    save_route(conversation_id="p_tg", audience="customer", channel="telegram", address="42",
               language="fr", services=services)  # fmt: skip
    dispatcher = await _run(intent, language="fr", channel="telegram")
    assert responses(dispatcher) == [reply]
    route = _route(services)
    assert route.consent is consent
    assert route.address == ("42" if consent else None)


async def test_web_agreement_creates_the_web_route(services: Services) -> None:
    await _run("affirm", language="en", channel="web", audience="customer")
    route = _route(services)
    assert (route.channel, route.address, route.language, route.consent) == (
        "web", "p_tg", "en", True
    )  # fmt: skip


async def test_database_failure_is_said(services: Services) -> None:
    services.engine.dispose()
    broken = make_engine("sqlite:////nonexistent-dir/x.db")
    services.sessions.configure(bind=broken)
    dispatcher = await _run("affirm", language="fr", channel="telegram")
    assert responses(dispatcher) == ["utter_something_went_wrong"]


async def test_after_stop_a_yes_is_answered_truthfully_and_the_ledger_keeps_the_opt_out(
    services: Services,
) -> None:
    from bot.contact.routes import opt_out_conversation

    save_route(conversation_id="p_tg", audience="customer", channel="telegram", address="42",
               language="fr", services=services)  # fmt: skip
    opt_out_conversation("p_tg", channel="telegram", audience="customer", services=services)
    dispatcher = await _run("affirm", language="fr", channel="telegram")
    assert responses(dispatcher) == ["utter_contact_no"]
    route = _route(services)
    assert (route.consent, route.address) == (False, None)
