"""Tests of the team bot: alerts in a team's Telegram chat and their workflow buttons.

Covers bot/channels/telegram/alerts.py (the message, the buttons, the worker's destination) and
bot/channels/telegram/team.py (callback queries through the real python-telegram-bot,
answered, the message edited; only the owning team's chat may act), plus the team bot's
webhook route.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.alerts.destinations import Alert, PermanentDeliveryError
from bot.alerts.payload import alert_text
from bot.alerts.resolve import ConfigDestinations
from bot.alerts.worker import deliver_due
from bot.alerts.workflow import current, history
from bot.channels.telegram.alerts import TelegramTeamDestination, parse_callback
from bot.channels.telegram.gateway import build_team_application
from bot.channels.telegram.webhook import SECRET_HEADER, mount_telegram
from bot.company import Company, Destination, Team
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.storage.models import AlertOutboxRecord

BILLING_CHAT = "-1001"
CARE_CHAT = "-1002"
IT_CHAT = "-1003"
OTHER_CHAT = "-1999"
FR_COMPLAINT = "ma facture est fausse, on m'a chargé deux fois"


def telegram_company(company: Company) -> Company:
    """The demo company with billing, customer care and IT alerted in Telegram chats."""
    teams = dict(company.teams)
    for key, chat in (("billing", BILLING_CHAT), ("customer_care", CARE_CHAT), ("it", IT_CHAT)):
        team = teams[key]
        teams[key] = Team(
            labels=team.labels,
            language=team.language,
            destinations=[Destination(name="chat", type="telegram", chat_id=chat)],
        )
    return company.model_copy(update={"teams": teams})


@pytest.fixture
def services(make_services: Any, fakes: Any, company: Company) -> Any:
    return make_services(
        fakes.ANGRY,
        company_config=telegram_company(company),
        settings={
            "TELEGRAM_TEAM_TOKEN": "999:TEAM",
            "TELEGRAM_API_BASE_URL": "http://botapi.test/bot",
            "TELEGRAM_WEBHOOK_SECRET": "right_secret-123",
        },
    )


class BotApiTransport(httpx.MockTransport):
    """An httpx transport answering like the Bot API, recording ``(token, method, body)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        token, method = request.url.path.removeprefix("/bot").split("/")
        body = json.loads(request.content or b"{}")
        self.calls.append((token, method, body))
        result = {"message_id": 5, "date": 0, "chat": {"id": int(body["chat_id"]), "type": "group"}}
        return httpx.Response(200, json={"ok": True, "result": result})


def employee_scanner(services: Any) -> int:
    message = Message(
        conversation_id="p_employee_77",
        text="The scanner at my till is broken again and nobody fixes it, I'm fed up",
        language="en",
        audience=Audience.EMPLOYEE,
        channel="telegram",
    )
    return record(message, services=services).feedback_id


def test_the_worker_posts_the_alert_in_the_team_chat_with_buttons(services: Any) -> None:
    outcome = record(
        Message(conversation_id="p_c1", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    )
    transport = BotApiTransport()
    report = deliver_due(services=services, transport=transport)
    assert report.sent == 1
    [(token, method, body)] = transport.calls
    assert (token, method, body["chat_id"]) == ("999:TEAM", "sendMessage", BILLING_CHAT)
    text = body["text"]
    for expected in ("Facturation", "Colère", "Élevée", "chargé deux fois"):
        assert expected.lower() in text.lower(), (expected, text)
    buttons = [b for row in body["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["👀 Je m'en occupe", "✅ Résolu", "↪️ Réaffecter"]
    assert parse_callback(buttons[1]["callback_data"]) == ("r", outcome.feedback_id, None)
    assert "parse_mode" not in body  # plain text: nothing a person wrote becomes markup


def test_an_employee_alert_never_reveals_who_spoke(services: Any) -> None:
    employee_scanner(services)
    transport = BotApiTransport()
    deliver_due(services=services, transport=transport)
    [(_, _, body)] = transport.calls
    assert body["chat_id"] == IT_CHAT
    assert "p_employee_77" not in json.dumps(body)
    assert "scanner" in body["text"] and "Tools and IT" in body["text"]
    assert "pseudonymous" in body["text"]


def test_no_team_bot_token_is_a_permanent_failure_with_the_reason() -> None:
    destination = TelegramTeamDestination(BILLING_CHAT, token="", base_url="http://x/bot")
    alert = Alert("a1", "billing", "issue", "high", {"title": "t", "feedback_id": 1})
    with pytest.raises(PermanentDeliveryError, match="TELEGRAM_TEAM_TOKEN"):
        destination.deliver(alert)


def test_config_destinations_fall_back_to_the_employee_bot(
    make_services: Any, fakes: Any, company: Company
) -> None:
    services = make_services(
        fakes.ANGRY,
        company_config=telegram_company(company),
        settings={"TELEGRAM_EMPLOYEE_TOKEN": "555:EMP"},
    )
    destination = ConfigDestinations(services.company, services=services)("billing", "chat")
    assert isinstance(destination, TelegramTeamDestination) and destination.token == "555:EMP"


def group_callback(data: str, chat_id: str, update_id: int, user_id: int = 31) -> dict[str, Any]:
    message = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": int(chat_id), "type": "supergroup", "title": "Facturation"},
        "from": {"id": 777, "is_bot": True, "first_name": "Vécu"},
        "text": "Élevée · Facturation : commentaire négatif\nExtrait : « ... »",
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": {"id": user_id, "is_bot": False, "first_name": "Alex", "last_name": "T."},
            "chat_instance": "ci",
            "message": message,
            "data": data,
        },
    }


@pytest.fixture
def team_bot(api: Any, services: Any) -> Callable[[dict[str, Any]], Any]:
    from telegram import Update

    application = build_team_application(
        token="999:TEAM", settings=services.settings, request=api, services=services
    )

    async def press(payload: dict[str, Any]) -> None:
        if not application._initialized:
            await application.initialize()
        await application.process_update(Update.de_json(payload, application.bot))

    return press


async def test_resolve_from_the_team_chat_then_again(
    team_bot: Any, api: Any, services: Any
) -> None:
    feedback_id = record(
        Message(conversation_id="p_c2", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    await team_bot(group_callback(f"vecu:r:{feedback_id}", BILLING_CHAT, 1))
    assert current(feedback_id, services=services).status == "resolved"
    [event] = history(feedback_id, services=services)
    assert (event.action, event.actor_channel, event.actor_id, event.actor_name) == (
        "resolved", "telegram", "31", "Alex T."
    )  # fmt: skip
    [answer] = api.sent("answerCallbackQuery")
    assert "Résolu" in answer["text"]
    [edit] = api.sent("editMessageText")
    assert "✅ Résolu par Alex T." in edit["text"] and edit["text"].startswith("Élevée")
    assert "Rouvrir" in json.dumps(edit["reply_markup"], ensure_ascii=False)

    await team_bot(group_callback(f"vecu:r:{feedback_id}", BILLING_CHAT, 2, user_id=32))
    assert "Déjà résolu par Alex T." in api.sent("answerCallbackQuery")[1]["text"]
    assert len(api.sent("editMessageText")) == 1  # nothing changed, nothing edited
    assert len(history(feedback_id, services=services)) == 1


async def test_another_chat_cannot_act(team_bot: Any, api: Any, services: Any) -> None:
    feedback_id = record(
        Message(conversation_id="p_c3", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    for chat in (OTHER_CHAT, IT_CHAT):
        await team_bot(group_callback(f"vecu:r:{feedback_id}", chat, int(chat[1:])))
    assert current(feedback_id, services=services).status == "open"
    assert history(feedback_id, services=services) == []
    answers = api.sent("answerCallbackQuery")
    assert len(answers) == 2 and all(a["show_alert"] for a in answers)
    assert api.sent("editMessageText") == []


async def test_reassign_opens_a_picker_then_moves_the_issue(
    team_bot: Any, api: Any, services: Any
) -> None:
    feedback_id = record(
        Message(conversation_id="p_c4", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    await team_bot(group_callback(f"vecu:m:{feedback_id}", BILLING_CHAT, 10))
    [picker] = api.sent("editMessageReplyMarkup")
    options = [row[0]["callback_data"] for row in picker["reply_markup"]["inline_keyboard"]]
    assert f"vecu:t:{feedback_id}:customer_care" in options
    assert f"vecu:t:{feedback_id}:billing" not in options and options[-1] == f"vecu:x:{feedback_id}"

    await team_bot(group_callback(f"vecu:t:{feedback_id}:customer_care", BILLING_CHAT, 11))
    state = current(feedback_id, services=services)
    assert (state.team, state.status) == ("customer_care", "open")
    [edit] = api.sent("editMessageText")
    assert "Réaffecté à Service à la clientèle par Alex T." in edit["text"]
    assert "reply_markup" not in edit  # no longer this chat's issue: no buttons
    with services.sessions() as session:
        rows = session.scalars(
            select(AlertOutboxRecord).where(AlertOutboxRecord.kind == "reassigned")
        )
        assert [r.team for r in rows] == ["customer_care"]
    # the old chat can no longer act; the new one can
    await team_bot(group_callback(f"vecu:a:{feedback_id}", BILLING_CHAT, 12))
    assert current(feedback_id, services=services).status == "open"
    await team_bot(group_callback(f"vecu:a:{feedback_id}", CARE_CHAT, 13))
    assert current(feedback_id, services=services).status == "acknowledged"


async def test_invalid_transition_is_explained(team_bot: Any, api: Any, services: Any) -> None:
    feedback_id = record(
        Message(conversation_id="p_c5", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    await team_bot(group_callback(f"vecu:o:{feedback_id}", BILLING_CHAT, 20))
    [answer] = api.sent("answerCallbackQuery")
    assert answer["text"] == "Impossible : il n'est pas résolu."
    assert history(feedback_id, services=services) == []


def test_team_webhook_refuses_a_forged_call(api: Any, services: Any) -> None:
    app = FastAPI()
    from bot.channels.rasa import FakeRasaClient

    rasa = FakeRasaClient()
    mounted = mount_telegram(
        app, settings=services.settings, rasa=lambda: rasa, services=services, request=lambda: api
    )
    assert mounted == ["team"]
    feedback_id = record(
        Message(conversation_id="p_c6", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    update = group_callback(f"vecu:r:{feedback_id}", BILLING_CHAT, 30)
    with TestClient(app) as client:
        forged = client.post("/telegram/team/webhook", json=update)
        assert forged.status_code == 403
        assert current(feedback_id, services=services).status == "open"
        genuine = client.post(
            "/telegram/team/webhook", json=update, headers={SECRET_HEADER: "right_secret-123"}
        )
        assert genuine.status_code == 200
    assert current(feedback_id, services=services).status == "resolved"


def test_alert_text_hides_a_confidential_excerpt() -> None:
    payload = {
        "title": "Urgent · Santé et sécurité",
        "language": "fr",
        "confidential": True,
        "excerpt": None,
        "fields": [{"name": "Point de contact", "value": "Santé et sécurité"}],
    }
    text = alert_text(payload)
    assert "Confidentiel" in text and "Extrait" not in text


async def test_without_a_team_bot_the_employee_bot_handles_the_buttons(
    api: Any, services: Any
) -> None:
    from telegram import Update

    from bot.channels.rasa import FakeRasaClient
    from bot.channels.telegram.gateway import build_application

    rasa = FakeRasaClient()
    application = build_application(
        token="555:EMP", audience=Audience.EMPLOYEE, rasa=rasa, settings=services.settings,
        request=api, services=services, team_actions=True,
    )  # fmt: skip
    await application.initialize()
    feedback_id = record(
        Message(conversation_id="p_c7", text=FR_COMPLAINT, language="fr", channel="telegram"),
        services=services,
    ).feedback_id
    update = group_callback(f"vecu:a:{feedback_id}", BILLING_CHAT, 40)
    await application.process_update(Update.de_json(update, application.bot))
    await application.shutdown()
    assert current(feedback_id, services=services).status == "acknowledged"
    assert rasa.sent == []  # the button never reached the conversation gateway
    assert len(api.sent("answerCallbackQuery")) == 1
