"""Tests of bot/contact/outbound.py: trigger an intent in Rasa, deliver to the channel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bot.contact.outbound import (
    FakeIntentTrigger,
    FakeSender,
    InboxSender,
    PermanentOutboundError,
    RasaIntentTrigger,
    Route,
    RoutingSender,
    TelegramSender,
    notify,
    split_text,
)
from bot.errors import DeliveryError

ROUTE = Route("p_abc", "customer", "telegram", "4242", "fr")


class StandInRasaApi:
    """Rasa's ``trigger_intent`` on a real local socket; ``status`` switches failures."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                answer = {
                    "tracker": {},
                    "messages": [{"recipient_id": "p_abc", "text": "Bonne nouvelle !"}],
                }
                data = json.dumps(answer).encode() if outer.status == 200 else b"{}"
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def rasa_api() -> Iterator[StandInRasaApi]:
    stand_in = StandInRasaApi()
    yield stand_in
    stand_in.server.shutdown()


def test_rasa_trigger_intent_returns_the_collected_messages(rasa_api: StandInRasaApi) -> None:
    trigger = RasaIntentTrigger(rasa_api.url, "rasa-token")
    messages = trigger.trigger("p_a/b", "EXTERNAL_issue_resolved", entities={"x": 1})
    assert messages == [{"recipient_id": "p_abc", "text": "Bonne nouvelle !"}]
    [(path, body)] = rasa_api.requests
    assert path == "/conversations/p_a%2Fb/trigger_intent?token=rasa-token"
    assert body == {"name": "EXTERNAL_issue_resolved", "entities": {"x": 1}}


def test_rasa_failures_are_retryable_or_permanent(rasa_api: StandInRasaApi) -> None:
    trigger = RasaIntentTrigger(rasa_api.url, "rasa-token")
    rasa_api.status = 500
    with pytest.raises(DeliveryError) as retry:
        trigger.trigger("p_abc", "EXTERNAL_issue_resolved")
    assert not isinstance(retry.value, PermanentOutboundError)
    rasa_api.status = 401
    with pytest.raises(PermanentOutboundError):
        trigger.trigger("p_abc", "EXTERNAL_issue_resolved")
    down = RasaIntentTrigger("http://127.0.0.1:9", "t", timeout_s=1)
    with pytest.raises(DeliveryError, match="unreachable"):
        down.trigger("p_abc", "EXTERNAL_issue_resolved")


def bot_api(calls: list[tuple[str, dict[str, Any]]], status: int = 200) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.path, json.loads(request.content)))
        if status != 200:
            return httpx.Response(status, json={"ok": False, "description": "Forbidden: blocked"})
        return httpx.Response(200, json={"ok": True, "result": {"message_id": 1}})

    return httpx.MockTransport(handle)


def test_telegram_sender_uses_the_audience_bot_and_splits_long_text() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    sender = TelegramSender(
        {"customer": "1:C", "employee": "2:E"},
        base_url="http://botapi.test/bot",
        transport=bot_api(calls),
    )
    buttons = [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}]
    sender.send(ROUTE, [{"text": "a " * 3000, "buttons": buttons}])
    assert [path for path, _ in calls] == ["/bot1:C/sendMessage"] * 2
    assert all(body["chat_id"] == "4242" for _, body in calls)
    assert "reply_markup" not in calls[0][1]
    assert calls[1][1]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Oui",
        "callback_data": "/affirm",
    }
    employee = Route("p_e", "employee", "telegram", "77", "en")
    sender.send(employee, [{"text": "Resolved."}])
    assert calls[-1][0] == "/bot2:E/sendMessage"


def test_telegram_refusals_and_missing_bots_are_permanent() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    blocked = TelegramSender(
        {"customer": "1:C"}, base_url="http://b/bot", transport=bot_api(calls, 403)
    )
    with pytest.raises(PermanentOutboundError, match="blocked"):
        blocked.send(ROUTE, [{"text": "hi"}])
    busy = TelegramSender(
        {"customer": "1:C"}, base_url="http://b/bot", transport=bot_api(calls, 502)
    )
    with pytest.raises(DeliveryError):
        busy.send(ROUTE, [{"text": "hi"}])
    with pytest.raises(PermanentOutboundError, match="employee"):
        blocked.send(Route("p", "employee", "telegram", "1", "fr"), [{"text": "hi"}])


def test_notify_routes_by_channel_and_refuses_silence() -> None:
    web_inbox: list[tuple[Route, list[dict[str, Any]]]] = []
    telegram = FakeSender()
    sender = RoutingSender(
        {"telegram": telegram, "web": InboxSender(lambda r, m: web_inbox.append((r, m)))}
    )
    trigger = FakeIntentTrigger(replies={"EXTERNAL_issue_resolved": [{"text": "Réglé !"}]})
    assert notify(ROUTE, "EXTERNAL_issue_resolved", trigger=trigger, sender=sender) == [
        {"text": "Réglé !"}
    ]
    assert telegram.sent == [(ROUTE, [{"text": "Réglé !"}])]
    web = Route("p_w", "customer", "web", "p_w", "en")
    notify(web, "EXTERNAL_issue_resolved", trigger=trigger, sender=sender)
    assert web_inbox == [(web, [{"text": "Réglé !"}])]
    with pytest.raises(PermanentOutboundError):
        notify(Route("p", "customer", "sms", "1", "fr"), "X", trigger=trigger, sender=sender)
    silent = FakeIntentTrigger(replies={"EXTERNAL_issue_resolved": []})
    with pytest.raises(DeliveryError, match="said nothing"):
        notify(ROUTE, "EXTERNAL_issue_resolved", trigger=silent, sender=sender)


def test_split_text_keeps_every_word() -> None:
    text = "mot " * 2000
    pieces = split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == text.split()
