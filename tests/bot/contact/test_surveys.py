"""Tests of bot/contact/surveys.py: the contact outbox sender and the Rasa + Telegram outbound."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from bot.contact import routes
from bot.contact.events import parse_event, receive
from bot.contact.outbound import PermanentOutboundError
from bot.contact.surveys import FakeOutbound, RasaTelegramOutbound, Target, send_due, send_one
from bot.services import FixedClock, Services
from bot.settings import Settings
from bot.storage.models import ContactDecisionRecord, ContactOutboxRecord

DAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 22:30 in Toronto


def event(services: Services, event_id: str = "evt-1", chat: int = 4242) -> Any:
    raw = json.dumps({
        "event_id": event_id,
        "person": {"external_id": f"C-{chat}", "telegram_chat_id": chat, "language": "fr"},
        "touchpoint": "delivery", "kind": "done", "occurred_at": "2026-11-23T09:55:00-05:00",
    }).encode()  # fmt: skip
    return receive(parse_event(raw, services), services=services)


def outbox(services: Services) -> list[ContactOutboxRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(ContactOutboxRecord).order_by(ContactOutboxRecord.id)))


def test_a_sent_decision_is_delivered_once_with_its_latency(make_services: ...) -> None:
    clock = FixedClock(DAY)
    services = make_services(clock=clock)
    outcome = event(services)
    fake = FakeOutbound()
    clock.advance(0.8)
    report = asyncio.run(send_one(outcome.outbox_id, sender=fake, services=services))
    assert report.sent == 1
    [(target, intent, entities)] = fake.calls
    assert intent == "EXTERNAL_survey" and entities == {"touchpoint": "delivery"}
    assert (target.channel, target.audience, target.address, target.language) == (
        "telegram", "customer", "4242", "fr",
    )  # fmt: skip
    assert target.conversation_id.startswith("p_")
    [row] = outbox(services)
    assert row.status == "sent" and row.latency_ms == 800 and row.attempts == 1
    # A second sender (the worker) finds nothing left to do.
    assert asyncio.run(send_due(sender=fake, services=services)).attempted == 0
    assert len(fake.calls) == 1


def test_rasa_down_keeps_the_row_and_retries_until_dead(make_services: ...) -> None:
    clock = FixedClock(DAY)
    services = make_services(clock=clock)
    event(services)
    down = FakeOutbound(fail=True)
    rng = random.Random(1)
    report = asyncio.run(send_due(sender=down, services=services, rng=rng))
    [row] = outbox(services)
    assert report.retried == 1 and row.status == "pending" and row.attempts == 1
    assert "fake Rasa is down" in (row.last_error or "")
    assert row.next_attempt_at > clock()
    for _ in range(services.company.contact_policy.max_attempts - 1):
        clock.advance(3600)
        asyncio.run(send_due(sender=down, services=services, rng=rng))
    [row] = outbox(services)
    assert row.status == "dead" and row.attempts == services.company.contact_policy.max_attempts


def test_rasa_back_delivers_what_waited(make_services: ...) -> None:
    clock = FixedClock(DAY)
    services = make_services(clock=clock)
    event(services)
    asyncio.run(send_due(sender=FakeOutbound(fail=True), services=services))
    clock.advance(3600)
    up = FakeOutbound()
    assert asyncio.run(send_due(sender=up, services=services)).sent == 1
    assert len(up.calls) == 1


def test_an_opt_out_before_sending_cancels_the_survey(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    outcome = event(services)
    with services.sessions.begin() as session:
        # Said on another channel just before the worker ran (the pending row is cancelled).
        routes.opt_out(session=session, person_id=outcome.person_id, source="opt_out:web",
                       now=services.clock())  # fmt: skip
    fake = FakeOutbound()
    asyncio.run(send_due(sender=fake, services=services))
    assert fake.calls == []
    assert outbox(services)[0].status == "cancelled"


def test_a_deferred_survey_goes_when_quiet_hours_end_after_a_new_decision(
    make_services: ...,
) -> None:
    clock = FixedClock(NIGHT)
    services = make_services(clock=clock)
    outcome = event(services)
    assert outcome.outcome == "deferred"
    fake = FakeOutbound()
    assert asyncio.run(send_due(sender=fake, services=services)).attempted == 0  # not yet
    clock.now = datetime(2026, 11, 24, 13, 0, 1, tzinfo=UTC)  # 08:00:01 in Toronto
    assert asyncio.run(send_due(sender=fake, services=services)).sent == 1
    with services.sessions() as session:
        outcomes = session.scalars(
            select(ContactDecisionRecord.outcome).order_by(ContactDecisionRecord.id)
        ).all()
    assert outcomes == ["deferred", "sent"]


def test_rasa_telegram_outbound_sets_slots_triggers_and_sends_buttons() -> None:
    seen: list[tuple[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((f"{request.url.host}:{request.url.port}{request.url.path}", body))
        if request.url.path.endswith("/tracker/events"):
            assert request.url.params["token"] == "rasa-token"
            return httpx.Response(200, json={})
        if request.url.path.endswith("/trigger_intent"):
            buttons = [{"title": str(n), "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
            return httpx.Response(200, json={"tracker": {}, "messages": [
                {"recipient_id": "x", "text": "Bonjour ! Une petite question : Livraison."},
                {"recipient_id": "x", "text": "Êtes-vous satisfait ?", "buttons": buttons},
            ]})  # fmt: skip
        return httpx.Response(200, json={"ok": True, "result": {}})

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, VECU_ENV="test", RASA_URL="http://rasa:5005", RASA_TOKEN="rasa-token",
        TELEGRAM_CUSTOMER_TOKEN="123:abc", TELEGRAM_API_BASE_URL="http://tg:8081/bot",
    )  # fmt: skip
    outbound = RasaTelegramOutbound(settings, transport=httpx.MockTransport(handler))
    target = Target("telegram", "customer", "4242", "p_" + "0" * 32, "fr")
    sent = asyncio.run(outbound.trigger(target, "EXTERNAL_survey", {"touchpoint": "delivery"}))
    asyncio.run(outbound.aclose())
    assert sent == 2
    paths = [path for path, _ in seen]
    assert paths == [
        f"rasa:5005/conversations/{target.conversation_id}/tracker/events",
        f"rasa:5005/conversations/{target.conversation_id}/trigger_intent",
        "tg:8081/bot123:abc/sendMessage",
        "tg:8081/bot123:abc/sendMessage",
    ]
    assert {e["name"]: e["value"] for e in seen[0][1]} == {
        "language": "fr", "audience": "customer", "channel": "telegram",
    }  # fmt: skip
    assert seen[1][1] == {"name": "EXTERNAL_survey", "entities": {"touchpoint": "delivery"}}
    keyboard = seen[3][1]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == '/rate{"rating": 1}'
    assert seen[3][1]["chat_id"] == "4242"


class RefusingOutbound(FakeOutbound):
    """Telegram refuses the chat (the person blocked the bot): retrying cannot help."""

    async def trigger(self, target: Target, intent: str, entities: Any) -> int:
        raise PermanentOutboundError("Telegram refused sendMessage: HTTP 403 bot was blocked")


def test_a_permanent_refusal_is_dead_at_once(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    event(services)
    report = asyncio.run(send_due(sender=RefusingOutbound(), services=services))
    [row] = outbox(services)
    assert report.dead == 1 and row.status == "dead" and row.attempts == 1
    assert "blocked" in (row.last_error or "")


def test_a_web_only_person_gets_the_survey_in_their_chat_page_inbox(make_services: ...) -> None:
    from bot.contact.routes import collect_inbox
    from bot.privacy.pseudonyms import pseudonym

    services = make_services(clock=FixedClock(DAY))
    raw = json.dumps({
        "event_id": "evt-web-1",
        "person": {"external_id": "C-WEB", "web_session": "sess-7f3a", "language": "en"},
        "touchpoint": "delivery", "kind": "done", "occurred_at": "2026-11-23T09:55:00-05:00",
    }).encode()  # fmt: skip
    outcome = receive(parse_event(raw, services), services=services)
    [row] = outbox(services)
    assert (outcome.outbox_id, row.channel) == (row.id, "web")
    conversation = pseudonym("sess-7f3a", channel="web", secret="test-secret")
    buttons = [{"title": str(n), "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
    rasa_calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        rasa_calls.append(request.url.path)
        if request.url.path.endswith("/trigger_intent"):
            return httpx.Response(200, json={"messages": [
                {"recipient_id": conversation, "text": "Are you satisfied?", "buttons": buttons},
            ]})  # fmt: skip
        if request.url.path.endswith("/tracker/events"):
            return httpx.Response(200, json={})
        return httpx.Response(500)  # nothing may go to Telegram

    real = RasaTelegramOutbound(
        services.settings, transport=httpx.MockTransport(handler), services=services
    )
    report = asyncio.run(send_one(row.id, sender=real, services=services))
    asyncio.run(real.aclose())
    assert report.sent == 1
    assert rasa_calls == [
        f"/conversations/{conversation}/tracker/events",
        f"/conversations/{conversation}/trigger_intent",
    ]
    assert collect_inbox(conversation, services=services) == [
        {"recipient_id": conversation, "text": "Are you satisfied?", "buttons": buttons}
    ]
    assert "sess-7f3a" not in json.dumps(rasa_calls)  # Rasa only knows the pseudonym
    [row] = outbox(services)
    assert row.status == "sent" and row.sent_at is not None
