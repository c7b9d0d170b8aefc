"""End to end: the real Rasa server, action server, web app, worker, database and model.

Everything runs as the Procfile runs it (separate processes on 127.0.0.1, random ports) with
a fresh SQLite database, a local webhook receiver standing in for a team's alert endpoint,
and an offline Telegram Bot API (:mod:`bot.channels.telegram.fake_api`, through
``TELEGRAM_API_BASE_URL``) for the customer, employee and team bots; billing and IT are
also alerted in Telegram group chats.
Needs the trained Rasa model (``make train``): ``make e2e`` runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from e2e_stack import RASA, RASA_MODEL, ROOT, Receiver, free_port, run_stack

from bot.channels.telegram.fake_api import FakeBotApiServer
from bot.language import detect

pytestmark = pytest.mark.rasa

TOKEN = "e2e-api-token"
STARTUP_TIMEOUT_S = 300
CUSTOMER_BOT, EMPLOYEE_BOT, TEAM_BOT = "101:customer", "102:employee", "103:team"
WEBHOOK_SECRET = "e2e-telegram-secret"
TEAM_CHATS = {"billing": "-100200", "it": "-100300"}


@dataclass
class Stack:
    web: str
    env: dict[str, str]
    receiver: Receiver
    logs: Path
    botapi: FakeBotApiServer

    def chat(self, conversation_id: str, text: str, **extra: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.web}/api/v1/chat",
            json={"conversation_id": conversation_id, "text": text, **extra},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def feedback(self, conversation_id: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.web}/api/v1/feedback",
            params={"conversation_id": conversation_id},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def resolve_and_read_inbox(
        self, feedback_id: int, conversation: str, words: str, actor: str
    ) -> tuple[list[dict[str, Any]], str]:
        """Resolve with closing ``words`` (the API), deliver, read the person's web inbox."""
        response = httpx.post(
            f"{self.web}/api/v1/feedback/{feedback_id}/resolve",
            json={"closing_message": words, "actor": {"name": actor}},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200 and response.json()["contacted"] is True, response.text
        self.run_worker_once()
        inbox = httpx.get(
            f"{self.web}/api/v1/chat/inbox", params={"conversation_id": conversation}, timeout=30
        ).json()["replies"]
        return inbox, " ".join(m.get("text") or "" for m in inbox)

    def run_worker_once(self) -> None:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "vecu"), "worker", "--once"],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not RASA.exists() or not RASA_MODEL.exists():
        pytest.fail("the end-to-end test needs the Rasa environment and model: run `make train`")
    tmp = tmp_path_factory.mktemp("e2e")
    receiver = Receiver()
    hook = receiver.start()
    botapi = FakeBotApiServer().start()
    company = yaml.safe_load((ROOT / "company.yml").read_text(encoding="utf-8"))
    for team, chat in TEAM_CHATS.items():  # billing and IT are also alerted on Telegram
        sink = list(company["teams"][team]["destinations"])
        company["teams"][team]["destinations"] = [
            *sink,
            {"name": "chat", "type": "telegram", "chat_id": chat},
        ]
    (tmp / "company.yml").write_text(yaml.safe_dump(company, allow_unicode=True))
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    (tmp / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
    )
    env = {
        **os.environ,
        "VECU_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp / 'vecu.db'}",
        "VECU_API_TOKEN": TOKEN,
        "VECU_SECRET_KEY": "e2e-secret-key",
        "RASA_TOKEN": "e2e-rasa-token",
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
        "VECU_ALERT_WEBHOOK_URL": hook,
        "HF_HUB_OFFLINE": "1",
        "VECU_COMPANY_CONFIG": str(tmp / "company.yml"),
        "TELEGRAM_CUSTOMER_TOKEN": CUSTOMER_BOT,
        "TELEGRAM_EMPLOYEE_TOKEN": EMPLOYEE_BOT,
        "TELEGRAM_TEAM_TOKEN": TEAM_BOT,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE_URL": botapi.base_url,
        "TELEGRAM_PUBLIC_URL": "",
    }
    try:
        with run_stack(
            tmp,
            env,
            rasa_port=rasa_port,
            actions_port=actions_port,
            web_port=web_port,
            worker=False,
            timeout_s=STARTUP_TIMEOUT_S,
        ) as web:
            yield Stack(web=web, env=env, receiver=receiver, logs=tmp, botapi=botapi)
    finally:
        if receiver.server:
            receiver.server.shutdown()
        botapi.stop()


def replies_text(answer: dict[str, Any]) -> str:
    return " ".join(reply.get("text") or "" for reply in answer["replies"])


def test_unprompted_french_complaint_is_stored_routed_and_alerted(stack: Stack) -> None:
    answer = stack.chat("e2e-fr-colis", "Mon colis est arrivé écrasé, c'est inacceptable !")

    assert answer["language"] == "fr"
    assert answer["replies"], "the assistant must answer"
    assert detect(replies_text(answer)) == "fr", replies_text(answer)
    [record] = stack.feedback("e2e-fr-colis")
    assert record["touchpoint"] == "delivery"
    assert record["team"] == "logistics"
    assert record["sentiment"]["label"] == "negative"
    assert record["emotion"]["label"] != "neutral"
    assert record["audience"] == "customer"

    stack.run_worker_once()
    alerts = [body for body in stack.receiver.bodies if json.dumps(body).find("logistics") >= 0]
    assert alerts, f"no alert reached the logistics webhook: {stack.receiver.bodies}"


@pytest.mark.parametrize(
    "conversation, text, language, not_understood",
    [
        (
            "e2e-noisy-fr",
            "Bonjour, ma livraison kill 85 est arrivée en retard et le colis était abîmé",
            "fr",
            "pas compris",
        ),
        ("e2e-noisy-fr-2", "bjr livraison zq 85 kw 12 retard colis abimé", "fr", "pas compris"),
        ("e2e-noisy-en", "hi delivery zq 85 kw 12 late parcel damaged", "en", "didn't understand"),
    ],
)
def test_a_noisy_complaint_naming_a_touchpoint_is_stored_whatever_nlu_makes_of_it(
    stack: Stack, conversation: str, text: str, language: str, not_understood: str
) -> None:
    answer = stack.chat(conversation, text, language=language)
    said = replies_text(answer)
    assert said and not_understood not in said, said
    [record] = stack.feedback(conversation)
    assert (record["touchpoint"], record["team"]) == ("delivery", "logistics"), record
    assert record["text"] == text


@pytest.mark.parametrize(
    ("conversation", "text", "team"),
    [
        ("e2e-misread-fr", "votre service client est injoignable", "customer_care"),
        ("e2e-misread-fr-2", "la qualité est vraiment décevante", "product"),
    ],
)
def test_a_complaint_our_model_reads_positive_gets_empathy_not_thanks(
    stack: Stack, conversation: str, text: str, team: str
) -> None:
    # the model scores these French complaints positive (0.53); NLU reads a complaint
    answer = stack.chat(conversation, text, language="fr")
    said = replies_text(answer)
    assert "désolé" in said and "plaisir" not in said, said
    [record] = stack.feedback(conversation)
    assert record["team"] == team, record


@pytest.mark.parametrize(
    ("conversation", "language", "text", "touchpoint", "team", "said"),
    [
        ("e2e-meaning-en", "en", "the lady at the till was rude to me", "store", "stores",
         "Stores"),
        ("e2e-meaning-fr", "fr",
         "Le gars a lancé ma boîte par-dessus la clôture, c'est inacceptable",
         "delivery", "logistics", "Logistique"),
    ],
)  # fmt: skip
def test_a_complaint_naming_no_keyword_reaches_its_team_by_meaning(
    stack: Stack, conversation: str, language: str, text: str, touchpoint: str, team: str, said: str
) -> None:
    answer = stack.chat(conversation, text, language=language)
    assert said in replies_text(answer), replies_text(answer)
    [record] = stack.feedback(conversation)
    assert (record["touchpoint"], record["team"]) == (touchpoint, team)


def test_english_rated_feedback_flow_with_buttons(stack: Stack) -> None:
    conversation = "e2e-en-billing"
    answer = stack.chat(conversation, "I'd like to give feedback about my bill", language="en")
    assert answer["language"] == "en"
    buttons = [button for reply in answer["replies"] for button in reply.get("buttons") or []]
    assert len(buttons) == 5, answer  # CSAT 1-5
    assert detect(replies_text(answer)) == "en", replies_text(answer)

    low = min(buttons, key=lambda button: button["payload"])
    answer = stack.chat(conversation, low["payload"], language="en")
    assert answer["replies"]

    answer = stack.chat(
        conversation, "I was charged twice this month, this is unacceptable!", language="en"
    )
    assert detect(replies_text(answer)) == "en", replies_text(answer)
    records = stack.feedback(conversation)
    assert [r["touchpoint"] for r in records] == ["billing"]
    assert records[0]["rating"] == 1 and records[0]["scale"] == "csat"
    assert records[0]["team"] == "billing"
    assert records[0]["sentiment"]["label"] == "negative"


def test_french_greeting_and_switch_to_english(stack: Stack) -> None:
    answer = stack.chat("e2e-switch", "Bonjour !")
    assert detect(replies_text(answer)) == "fr", replies_text(answer)
    answer = stack.chat("e2e-switch", "in English please")
    assert detect(replies_text(answer)) == "en", replies_text(answer)
    assert answer["language"] == "en"
    answer = stack.chat("e2e-switch", "My parcel never arrived", language="en")
    assert detect(replies_text(answer)) == "en", replies_text(answer)


# ---- issue 19: replies that fit what was said -------------------------------------------------


@pytest.mark.parametrize(
    ("conversation", "language", "text", "thanks", "sorry", "never"),
    [
        (
            "e2e-mixed-en",
            "en",
            "I love the new app but the checkout page keeps freezing",
            "kind words",
            "sorry",
            "great to hear",
        ),
        (
            "e2e-mixed-fr",
            "fr",
            "J'adore la nouvelle appli mais la page de paiement gèle tout le temps",
            "bons mots",
            "désolé",
            "plaisir à lire",
        ),
    ],
)
def test_a_mixed_message_gets_both_halves_acknowledged(
    stack: Stack, conversation: str, language: str, text: str, thanks: str, sorry: str, never: str
) -> None:
    answer = stack.chat(conversation, text, language=language)
    said = replies_text(answer)
    assert thanks in said and sorry in said.lower() and never not in said, said
    [record] = stack.feedback(conversation)
    assert record["mixed"] and (record["touchpoint"], record["team"]) == ("website", "digital")


@pytest.mark.parametrize(
    ("conversation", "language", "text", "touchpoints"),
    [
        (
            "e2e-two-en",
            "en",
            "Hi, I was charged twice on my last invoice and nobody answers the phone",
            {"billing", "support"},
        ),
        (
            "e2e-two-fr",
            "fr",
            "ma commande est jamais arrivée pis personne me répond",
            {"delivery", "support"},
        ),
    ],
)
def test_a_message_naming_two_touchpoints_tells_both_teams(
    stack: Stack, conversation: str, language: str, text: str, touchpoints: set[str]
) -> None:
    answer = stack.chat(conversation, text, language=language)
    [record] = stack.feedback(conversation)
    assert set(record["touchpoints"]) == touchpoints, record
    assert record["touchpoint"] == record["touchpoints"][0]
    said = replies_text(answer)
    assert ("aussi prévenu" if language == "fr" else "told our") in said, said
    stack.run_worker_once()
    told = {
        (body["team"], body["kind"])
        for body in stack.receiver.bodies
        if body.get("feedback_id") == record["id"]
    }
    owners = {"billing": "billing", "support": "customer_care", "delivery": "logistics"}
    [other] = {owners[tp] for tp in touchpoints} - {record["team"]}
    assert (record["team"], "issue") in told and (other, "also") in told, told


def declined_questions(stack: Stack, sender: str) -> list[str]:
    """The questions stored as declined by the (pseudonymous) ``sender``."""
    import sqlite3

    path = stack.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT question FROM declined_question WHERE conversation_id = ? ORDER BY id",
            (sender,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_french_customer_declines_the_rating_and_is_understood(stack: Stack) -> None:
    conversation = "e2e-decline-fr"
    answer = stack.chat(conversation, "ma facture est encore fausse ce mois-ci", language="fr")
    assert any(len(r.get("buttons") or []) == 5 for r in answer["replies"]), answer
    answer = stack.chat(conversation, "non merci", language="fr")
    said = replies_text(answer)
    assert "on passe cette question" in said and "pas compris" not in said, said
    assert "autre chose" in said, said
    [record] = stack.feedback(conversation)
    assert record["touchpoint"] == "billing" and record["rating"] is None
    assert declined_questions(stack, record["conversation_id"]) == ["rating"]


def test_an_english_customer_skips_the_rating_and_still_gives_words(stack: Stack) -> None:
    conversation = "e2e-decline-en"
    stack.chat(conversation, '/give_feedback{"touchpoint": "billing"}', language="en")
    answer = stack.chat(conversation, "I'd rather not say", language="en")
    said = replies_text(answer)
    assert "own words" in said and "didn't understand" not in said, said
    stack.chat(conversation, "there is a fee on my bill that I never agreed to", language="en")
    [record] = stack.feedback(conversation)
    assert record["rating"] is None and "fee" in record["text"]
    assert declined_questions(stack, record["conversation_id"]) == ["rating"]


def test_another_language_is_answered_in_both_and_stored_as_other(stack: Stack) -> None:
    conversation = "e2e-german"
    answer = stack.chat(conversation, "Ich bin sehr unzufrieden mit der Lieferung")
    said = replies_text(answer)
    assert "français et anglais" in said and "French and English" in said, said
    [record] = stack.feedback(conversation)
    assert record["language"] == "other" and record["team"] is not None


def test_a_question_is_passed_to_the_team_that_answers_it(stack: Stack) -> None:
    conversation = "e2e-question-fr"
    answer = stack.chat(
        conversation, "est-ce que vous faites la livraison le dimanche ?", language="fr"
    )
    said = replies_text(answer)
    assert "transmis votre question" in said and "Logistique" in said, said
    assert "prévienne" in said, said  # may we tell you the answer here?
    [record] = stack.feedback(conversation)
    assert (record["touchpoint"], record["team"], record["severity"]) == (
        "delivery", "logistics", "normal"
    )  # fmt: skip
    stack.chat(conversation, "/affirm", language="fr")  # yes, tell me here
    words = "Oui, nous livrons le dimanche à Montréal et à Laval."
    inbox, said = stack.resolve_and_read_inbox(record["id"], conversation, words, "Camille")
    assert "a répondu à la question" in said and f"« {words} »" in said, inbox
    assert "problème" not in said, inbox  # a question is answered, not a problem solved


def test_a_web_customer_hears_the_teams_own_words_when_it_is_resolved(stack: Stack) -> None:
    conversation = "e2e-closing-words"
    stack.chat(conversation, "ma facture est encore fausse ce mois-ci", language="fr")
    stack.chat(conversation, '/rate{"rating": 1}', language="fr")
    answer = stack.chat(conversation, "qu'on me rembourse le double paiement", language="fr")
    assert "prévienne" in replies_text(answer), answer  # may we tell you when it is resolved?
    stack.chat(conversation, "/affirm", language="fr")
    root = next(r for r in stack.feedback(conversation) if r["parent_id"] is None)
    words = "Le double paiement vous a été remboursé ce matin."
    inbox, said = stack.resolve_and_read_inbox(root["id"], conversation, words, "Dominique")
    assert "Bonne nouvelle" in said and f"« {words} »" in said, inbox


# ---- Telegram: the "done when" -------------------------------------------------------


class TelegramUser:
    """A person writing to one of the bots through its webhook, as Telegram would."""

    _update_ids = iter(range(500_000, 10_000_000))

    def __init__(self, stack: Stack, audience: str, user_id: int, language: str) -> None:
        self.stack, self.audience, self.user_id, self.language = stack, audience, user_id, language
        self.token = CUSTOMER_BOT if audience == "customer" else EMPLOYEE_BOT

    def _post(self, update: dict[str, Any], path: str | None = None, secret: bool = True) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET} if secret else {}
        response = httpx.post(
            f"{self.stack.web}{path or f'/telegram/{self.audience}/webhook'}",
            json=update,
            headers=headers,
            timeout=120,
        )
        return response.status_code

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": "X",
            "language_code": self.language,
        }

    def say(self, text: str, *, secret: bool = True) -> int:
        update = {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": 1,
                "date": 1_763_900_000,
                "chat": {"id": self.user_id, "type": "private", "first_name": "X"},
                "from": self._user(),
                "text": text,
            },
        }
        return self._post(update, secret=secret)

    def received(self) -> list[dict[str, Any]]:
        """The messages the bot sent to this person, oldest first."""
        return [
            c.params
            for c in self.stack.botapi.sent(token=self.token)
            if str(c.params.get("chat_id")) == str(self.user_id)
        ]

    def last_buttons(self) -> list[dict[str, str]]:
        for params in reversed(self.received()):
            markup = params.get("reply_markup")
            if markup:
                return [b for row in markup["inline_keyboard"] for b in row]
        raise AssertionError(f"no keyboard among {self.received()}")

    def press(self, predicate: Any) -> None:
        button = next(b for b in self.last_buttons() if predicate(b))
        update = {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids)),
                "from": self._user(),
                "chat_instance": "ci",
                "message": {
                    "message_id": 1000,
                    "date": 1_763_900_000,
                    "chat": {"id": self.user_id, "type": "private", "first_name": "X"},
                    "text": "…",
                },
                "data": button["callback_data"],
            },
        }
        assert self._post(update) == 200


def press_in_team_chat(stack: Stack, chat: str, data: str, who: str) -> int:
    update = {
        "update_id": next(TelegramUser._update_ids),
        "callback_query": {
            "id": str(next(TelegramUser._update_ids)),
            "from": {"id": 9001, "is_bot": False, "first_name": who},
            "chat_instance": "team",
            "message": {
                "message_id": 1,
                "date": 1_763_900_000,
                "chat": {"id": int(chat), "type": "supergroup", "title": "team"},
                "text": "alert",
            },
            "data": data,
        },
    }
    response = httpx.post(
        f"{stack.web}/telegram/team/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        timeout=60,
    )
    return response.status_code


def all_feedback(stack: Stack) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.web}/api/v1/feedback",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    return list(response.json()["items"])


def closed_loop(
    stack: Stack,
    person: TelegramUser,
    complaint: str,
    *,
    team: str,
    touchpoint: str,
    followup: str,
    yes: str,
) -> str:
    """Complain, rate, follow up, agree to hear back; the team resolves; the closing text."""
    assert person.say(complaint) == 200
    assert person.received(), "the bot must answer"
    person.press(lambda b: b["text"] == "1")
    assert person.say(followup) == 200
    person.press(lambda b: b["text"] == yes)
    texts = [m["text"] for m in person.received()]

    records = [r for r in all_feedback(stack) if r["channel"] == "telegram" and r["team"] == team]
    root = next(r for r in records if r["touchpoint"] == touchpoint and r["parent_id"] is None)
    stack.run_worker_once()
    chat = TEAM_CHATS[team]
    alerts = [c.params for c in stack.botapi.sent(token=TEAM_BOT) if c.params["chat_id"] == chat]
    resolve = f"vecu:r:{root['id']}"
    buttons = [  # an "also" alert (another team handles it) has no buttons
        b["callback_data"]
        for a in alerts
        for row in (a.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    assert resolve in buttons, f"no alert about feedback {root['id']} in the {team} chat: {alerts}"
    assert press_in_team_chat(stack, chat, resolve, "Dominique") == 200
    edits = [c.params for c in stack.botapi.sent("editMessageText", token=TEAM_BOT)]
    assert any("Dominique" in e["text"] for e in edits), edits
    before = len(person.received())
    stack.run_worker_once()
    closing = person.received()[before:]
    assert closing, f"the person was not told; conversation so far: {texts}"
    return " ".join(m["text"] for m in closing)


def test_french_customer_on_telegram_hears_back_when_billing_resolves(stack: Stack) -> None:
    customer = TelegramUser(stack, "customer", 5001, "fr")
    closing = closed_loop(
        stack,
        customer,
        "ma facture est fausse, on m'a chargé deux fois",
        team="billing",
        touchpoint="billing",
        followup="un remboursement rapide, tout simplement",
        yes="Oui, merci",
    )
    assert detect(closing) == "fr", closing
    assert "réglé" in closing


def test_english_employee_on_telegram_hears_back_when_it_resolves(stack: Stack) -> None:
    employee = TelegramUser(stack, "employee", 6001, "en")
    closing = closed_loop(
        stack,
        employee,
        "The barcode scanner at my till is broken again and nobody fixes it",
        team="it",
        touchpoint="tools",
        followup="a scanner that works, honestly",
        yes="Yes, please",
    )
    assert detect(closing) == "en", closing
    assert "resolved" in closing
    alerts = " ".join(c.params["text"] for c in stack.botapi.sent(token=TEAM_BOT))
    assert "6001" not in alerts and "p_" not in alerts  # who spoke is never revealed


def test_forged_telegram_webhook_is_refused_and_changes_nothing(stack: Stack) -> None:
    before_feedback = len(all_feedback(stack))
    before_calls = len(stack.botapi.calls)
    forger = TelegramUser(stack, "customer", 7001, "fr")
    assert forger.say("ma facture est fausse, on m'a chargé deux fois", secret=False) in (401, 403)
    update = {"update_id": 1, "callback_query": {"id": "1", "data": "vecu:r:1"}}
    status = httpx.post(f"{stack.web}/telegram/team/webhook", json=update, timeout=30).status_code
    assert status in (401, 403)
    assert len(all_feedback(stack)) == before_feedback
    assert len(stack.botapi.calls) == before_calls
