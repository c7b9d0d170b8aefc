"""Tests of bot/web/app.py: routes, bad input at the edge, Rasa failures, auth, API, health.

The app runs with real services (migrated temp SQLite, static scorer) and either the in-tree
fake Rasa or :class:`HttpRasaClient` against a real local server standing in for Rasa.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.channels.rasa import FakeRasaClient, HttpRasaClient
from bot.channels.web import links
from bot.channels.web.chat import web_pseudonym
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.i18n import catalogue, t
from bot.web.app import create_app

if TYPE_CHECKING:
    from conftest import StandInRasa

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ITEM_KEYS = {
    "id", "conversation_id", "touchpoint", "team", "severity", "sentiment", "emotion",
    "language", "audience", "channel", "kind", "rating", "scale", "text", "truncated",
    "created_at", "model_version",
}  # fmt: skip


@pytest.fixture
def rasa() -> FakeRasaClient:
    return FakeRasaClient()


@pytest.fixture
def client(services: Any, rasa: FakeRasaClient) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, rasa=rasa)) as test_client:
        yield test_client


def chat(client: TestClient, text: Any, language: str | None = None, **extra: Any) -> Any:
    body = {"conversation_id": extra.pop("conversation_id", "conv-1"), "text": text, **extra}
    if language:
        body["language"] = language
    response = client.post("/api/v1/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def stored(client: TestClient, conversation_id: str = "conv-1") -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/feedback", params={"conversation_id": conversation_id}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- page -------------------------------------------------------------------------------


def test_page_is_public_self_contained_and_locked_down(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # no CDN
    script = client.get("/static/chat.js")
    assert script.status_code == 200
    assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", script.text)
    assert "textContent" in script.text
    assert client.get("/static/chat.css").status_code == 200


def test_page_labels_exist_in_both_languages(client: TestClient) -> None:
    labels = client.get("/i18n.json").json()
    assert labels["languages"] == ["fr", "en"]
    fr, en = labels["messages"]["fr"], labels["messages"]["en"]
    assert set(fr) == set(en) and {"send", "welcome", "network_error", "typing"} <= set(fr)
    assert fr["send"] != en["send"]


def test_openapi_documents_the_chat_body(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    chat_body = schema["paths"]["/api/v1/chat"]["post"]["requestBody"]
    assert "conversation_id" in chat_body["content"]["application/json"]["schema"]["required"]
    assert client.get("/docs").status_code == 404  # Swagger UI needs a CDN: off


def test_module_app_is_built_lazily_once() -> None:
    import bot.web.app as module

    assert isinstance(module.app, FastAPI)
    assert module.app is module.app


# --- chat: happy path and bad input -----------------------------------------------------


def test_chat_needs_no_token_and_uses_a_pseudonym(
    client: TestClient, rasa: FakeRasaClient, web_settings: Any
) -> None:
    answer = chat(client, "Bonjour, ma livraison est en retard")
    assert answer["language"] == "fr" and answer["status"] == "ok"
    assert answer["replies"][0]["buttons"][3] == {"title": "4", "payload": '/rate{"rating": 4}'}
    sender, _, metadata = rasa.sent[0]
    assert sender == web_pseudonym("conv-1", web_settings)
    assert metadata.pop("message_id")
    assert metadata == {"language": "fr", "audience": "customer", "channel": "web"}


def test_the_balancers_request_id_is_the_message_id_when_the_client_gives_none(
    client: TestClient, rasa: FakeRasaClient
) -> None:
    """``make run-scaled``'s balancer sets X-Request-ID and sends the same request again when
    a web replica dies before answering: the retry must carry the same message id."""
    body = {"conversation_id": "conv-1", "text": "Bonjour"}
    for headers, extra in (
        ({"X-Request-ID": "6f1c0e1a-5b7e-4c41-9d2e-0a8b3c2d1e4f"}, {}),
        ({"X-Request-ID": "6f1c0e1a-5b7e-4c41-9d2e-0a8b3c2d1e4f"}, {"message_id": "page-0001"}),
        ({"X-Request-ID": "bad id!"}, {}),
    ):
        response = client.post("/api/v1/chat", json={**body, **extra}, headers=headers)
        assert response.status_code == 200, response.text
    ids = [metadata["message_id"] for _, _, metadata in rasa.sent]
    assert ids[0] == "6f1c0e1a-5b7e-4c41-9d2e-0a8b3c2d1e4f"
    assert ids[1] == "page-0001"  # the client's own id first
    assert len(ids[2]) == 32  # an unfit header: a new id


def test_button_payload_is_sent_back_as_the_message(
    client: TestClient, rasa: FakeRasaClient
) -> None:
    chat(client, '/rate{"rating": 4}', "en")
    assert rasa.sent[-1][1] == '/rate{"rating": 4}'


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "long": "Le colis est arrivé en retard. " * 400,  # 12,400 characters
    "control": "Colis\x00 abîmé\x07\x1b[31m !",
    "emoji": "😡😡📦💥",
    "german": "Das Paket kam beschädigt an, sehr enttäuschend.",
    "sql": "'; DROP TABLE feedback;--",
    "html": "<script>alert(1)</script>",
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_with_rasa_down_is_answered_in_language_and_stored(
    client: TestClient, rasa: FakeRasaClient, case: str, language: str
) -> None:
    rasa.down = True
    text = BAD_INPUTS[case]
    answer = chat(client, text, language)
    texts = [r["text"] for r in answer["replies"]]
    assert answer["language"] == language
    items = stored(client)
    if case in ("empty", "whitespace"):
        assert texts == [t("web.chat.empty", language)]
        assert items == []
        return
    assert t("web.chat.unavailable", language) in texts
    assert t("web.chat.kept", language) in texts
    (item,) = items
    # a message in another language is stored as such (issue 19), answered in the page's
    assert item["language"] == ("other" if case == "german" else language)
    assert item["channel"] == "web" and item["audience"] == "customer"
    if case == "long":
        assert texts[0] == t("web.chat.truncated", language, limit=5000)
        assert item["truncated"] is True and item["original_length"] == len(text.strip())
        assert text.startswith(item["text"]) and len(item["text"]) <= 5000
    elif case == "control":
        assert item["text"] == "Colis abîmé[31m !"
    else:
        assert item["text"] == text and item["truncated"] is False


def test_injection_strings_are_stored_verbatim_and_the_table_survives(
    client: TestClient, rasa: FakeRasaClient
) -> None:
    rasa.down = True
    chat(client, BAD_INPUTS["sql"], "en")
    chat(client, "second message", "en")
    texts = sorted(i["text"] for i in stored(client))
    assert texts == sorted([BAD_INPUTS["sql"], "second message"])


@pytest.mark.parametrize("case", ["long", "control", "emoji", "german", "sql", "html"])
def test_bad_input_with_rasa_up_reaches_rasa_safely(
    client: TestClient, rasa: FakeRasaClient, case: str
) -> None:
    answer = chat(client, BAD_INPUTS[case], "en")
    assert answer["status"] == "ok" and answer["language"] == "en"
    _, message, metadata = rasa.sent[-1]
    assert "\x00" not in message and "\x1b" not in message
    assert len(message) <= 5000
    assert metadata.get("truncated", False) is (case == "long")
    if case in ("sql", "html", "emoji", "german"):
        assert message == BAD_INPUTS[case]
    assert stored(client) == []  # Rasa is up: storing is the action's job


def test_unknown_audience_is_customer_and_employee_is_kept(
    client: TestClient, rasa: FakeRasaClient, web_settings: Any
) -> None:
    chat(client, "bonjour", "fr", audience="martian")
    link = links.issue(web_settings.secret_key, campaign="q4", days=1)
    chat(client, "bonjour", "fr", audience="employee", employee_link=link)
    assert [m["audience"] for _, _, m in rasa.sent] == ["customer", "employee"]


def test_language_is_detected_when_the_request_has_none(
    client: TestClient, rasa: FakeRasaClient
) -> None:
    assert chat(client, "My parcel arrived crushed, this is unacceptable!")["language"] == "en"
    assert chat(client, "Mon colis est arrivé écrasé !")["language"] == "fr"
    assert chat(client, "😡😡")["language"] == "fr"  # nothing to detect: French


def test_browser_language_is_the_fallback_when_detection_is_unsure(client: TestClient) -> None:
    def ask(text: str, accept: str) -> Any:
        body = {"conversation_id": "c", "text": text}
        headers = {"Accept-Language": accept}
        return client.post("/api/v1/chat", json=body, headers=headers).json()["language"]

    assert ask("😡😡", "en-CA,en;q=0.9,fr;q=0.8") == "en"
    assert ask("😡😡", "de-DE,de;q=0.9,en;q=0.5") == "en"
    assert ask("😡😡", "de-DE") == "fr"
    assert ask("Mon colis est arrivé écrasé !", "en-US") == "fr"  # the text wins
    assert ask("", "en-US") == "en"  # the "empty message" answer too


@pytest.mark.parametrize(
    ("body", "language"),
    [
        (b"{not json", "fr"),
        (b'["a", "list"]', "fr"),
        (b'{"text": "no conversation", "language": "en"}', "en"),
        (b'{"conversation_id": "", "text": "hi", "language": "en"}', "en"),
        (b"\xff\xfe\x00", "fr"),
    ],
)
def test_unreadable_chat_request_is_a_clear_400_json(
    client: TestClient, body: bytes, language: str
) -> None:
    response = client.post(
        "/api/v1/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    data = response.json()
    assert data["error"]["code"] == "invalid_request"
    assert data["replies"] == [{"text": t("web.chat.bad_request", language)}]
    assert data["language"] == language


def test_oversized_chat_body_is_refused_without_reading_it_all(client: TestClient) -> None:
    text = "x" * (1_048_576 + 10)
    response = client.post("/api/v1/chat", json={"conversation_id": "c", "text": text})
    assert response.status_code == 400
    assert response.json()["replies"] == [{"text": t("web.chat.bad_request", "fr")}]


def test_unexpected_gateway_error_is_an_apology_not_a_500(services: Any, web_settings: Any) -> None:
    def broken(*_: Any) -> list[dict[str, Any]]:
        raise RuntimeError("bug")

    app = create_app(services=services, rasa=FakeRasaClient(script=broken))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        answer = chat(test_client, "hello", "en")
    assert answer == {
        "replies": [{"text": t("web.chat.error", "en")}],
        "language": "en",
        "status": "error",
    }


# --- chat against a real local HTTP server standing in for Rasa --------------------------


def real_client(services: Any, url: str) -> TestClient:
    return TestClient(create_app(services=services, rasa=HttpRasaClient(url, url, timeout_s=5)))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_connection_refused_apologises_and_records(
    services: Any, refused_url: str, language: str
) -> None:
    with real_client(services, refused_url) as test_client:
        answer = chat(test_client, "Mon colis est arrivé écrasé !", language)
        assert answer["status"] == "unavailable"
        assert [r["text"] for r in answer["replies"]] == [
            t("web.chat.unavailable", language),
            t("web.chat.kept", language),
            t("web.chat.retry", language),
        ]
        assert [i["text"] for i in stored(test_client)] == ["Mon colis est arrivé écrasé !"]


def test_silent_rasa_means_actions_down_apologises_and_records(
    services: Any, stand_in: StandInRasa
) -> None:
    stand_in.mode = "empty"
    with real_client(services, stand_in.url) as test_client:
        answer = chat(test_client, "The invoice is wrong again", "en")
        assert answer["status"] == "unavailable"
        assert t("web.chat.unavailable", "en") in [r["text"] for r in answer["replies"]]
        (item,) = stored(test_client)
    assert item["text"] == "The invoice is wrong again"
    assert stand_in.received[0]["metadata"]["channel"] == "web"


def test_dead_action_server_is_noticed_even_though_rasa_would_answer(
    services: Any, stand_in: StandInRasa
) -> None:
    # A real Rasa whose action server is dead still answers (its fallback utterance), and the
    # feedback would be lost: the gateway checks the action server first.
    stand_in.actions_up = False
    with real_client(services, stand_in.url) as test_client:
        answer = chat(test_client, "La facture est fausse, encore !", "fr")
        assert answer["status"] == "unavailable"
        assert t("web.chat.kept", "fr") in [r["text"] for r in answer["replies"]]
        (item,) = stored(test_client)
    assert (item["text"], item["touchpoint"]) == ("La facture est fausse, encore !", "billing")
    assert stand_in.received == []


def test_real_rasa_stand_in_replies_are_relayed(services: Any, stand_in: StandInRasa) -> None:
    with real_client(services, stand_in.url) as test_client:
        answer = chat(test_client, "Super service", "en")
    assert answer["replies"][0]["text"] == "stand-in:en"
    assert stand_in.received[0]["sender"].startswith("p_")


def test_failed_fallback_record_still_answers(
    services: Any, rasa: FakeRasaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.channels.inbound

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.channels.inbound, "record", broken)
    rasa.down = True
    with TestClient(create_app(services=services, rasa=rasa)) as test_client:
        answer = chat(test_client, "Livraison en retard", "fr")
    assert [r["text"] for r in answer["replies"]] == [
        t("web.chat.unavailable", "fr"),
        t("web.chat.retry", "fr"),
    ]


# --- API auth and feedback --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
)
def test_api_rejects_missing_or_wrong_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/feedback", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"
    assert TOKEN not in response.text


@pytest.mark.parametrize("configured", ["change-me", ""])
def test_placeholder_or_empty_token_keeps_the_api_closed(
    services: Any, rasa: FakeRasaClient, configured: str
) -> None:
    services.settings = services.settings.model_copy(update={"api_token": configured})
    with TestClient(create_app(services=services, rasa=rasa)) as test_client:
        response = test_client.get(
            "/api/v1/feedback", headers={"Authorization": f"Bearer {configured}"}
        )
    assert response.status_code == 401


def test_api_accepts_the_right_token(client: TestClient) -> None:
    response = client.get("/api/v1/feedback", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"items": []}


def _seed(services: Any) -> None:
    rows = [
        ("conv-a", "Mon colis est arrivé écrasé, c'est inacceptable !", "fr"),
        ("conv-a", "Et la facture est fausse", "fr"),
        ("conv-b", "The website checkout keeps failing", "en"),
    ]
    for conversation, text, language in rows:
        record(
            Message(
                conversation_id=web_pseudonym(conversation, services.settings),
                text=text,
                language=language,
                audience=Audience.CUSTOMER,
                channel="web",
            ),
            services=services,
        )


def test_feedback_items_have_the_documented_shape(client: TestClient, services: Any) -> None:
    _seed(services)
    items = client.get("/api/v1/feedback", headers=AUTH).json()["items"]
    assert len(items) == 3
    for item in items:
        assert set(item) >= ITEM_KEYS
        assert set(item["sentiment"]) == {"label", "scores"}
        assert item["sentiment"]["label"] == "negative"
        assert item["emotion"]["label"] == "anger"
        assert set(item["emotion"]["scores"]) == set(services.company.emotion_groups)
    crushed = next(i for i in items if "écrasé" in i["text"])
    assert (crushed["touchpoint"], crushed["team"]) == ("delivery", "logistics")


def test_feedback_filters(client: TestClient, services: Any) -> None:
    _seed(services)

    def texts(**params: Any) -> list[str]:
        response = client.get("/api/v1/feedback", params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        return sorted(i["text"] for i in response.json()["items"])

    assert len(texts(conversation_id="conv-a")) == 2
    pseudonymous = web_pseudonym("conv-b", services.settings)
    assert texts(conversation_id=pseudonymous) == ["The website checkout keeps failing"]
    assert texts(conversation_id="nobody") == []
    assert texts(touchpoint="delivery") == ["Mon colis est arrivé écrasé, c'est inacceptable !"]
    assert texts(team="digital") == ["The website checkout keeps failing"]
    assert len(texts(limit=1)) == 1
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert texts(since=future) == []
    assert len(texts(since="2020-01-01")) == 3
    assert len(texts(since="2020-01-01T00:00:00Z")) == 3
    assert len(texts(since="2020-01-01T00:00:00+02:00")) == 3
    # an unencoded "+" arrives as a space: still understood
    url = "/api/v1/feedback?since=2999-01-01T00:00:00+02:00"
    assert client.get(url, headers=AUTH).json() == {"items": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-13-45"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_feedback_bad_parameters_are_400(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/feedback", params=params, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith(field)


def test_unexpected_api_error_is_a_json_500_without_traceback(
    services: Any, rasa: FakeRasaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.web.app

    def broken(**_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(bot.web.app, "query", broken)
    app = create_app(services=services, rasa=rasa)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/api/v1/feedback", headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": t("web.api.internal_error", "en")}
    }


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- health -----------------------------------------------------------------------------


def test_healthz_ok_when_everything_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"rasa": "ok", "actions": "ok", "database": "ok"},
    }


@pytest.mark.parametrize(
    ("failure", "down"),
    [("down", {"rasa", "actions"}), ("actions_down", {"actions"})],
)
def test_healthz_503_names_the_failed_upstream(
    client: TestClient, rasa: FakeRasaClient, failure: str, down: set[str]
) -> None:
    setattr(rasa, failure, True)
    if failure == "down":
        rasa.actions_down = True
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert {k for k, v in checks.items() if v == "down"} == down
    # the balancer's check: this replica still answers (its apology and fallback record)
    assert client.get("/livez").json() == {"status": "ok"}


def test_healthz_503_when_the_database_is_down(services: Any, rasa: FakeRasaClient) -> None:
    from bot.services import Services
    from bot.storage.engine import make_engine

    broken = Services(
        settings=services.settings,
        company=services.company,
        engine=make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"),
        sessions=services.sessions,
        scorer=services.scorer,
    )
    with TestClient(create_app(services=broken, rasa=rasa)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"rasa": "ok", "actions": "ok", "database": "down"}


def test_healthz_against_real_stand_in(services: Any, stand_in: StandInRasa) -> None:
    with real_client(services, stand_in.url) as test_client:
        assert test_client.get("/healthz").status_code == 200


# --- development webhook sink -----------------------------------------------------------


def test_dev_webhook_sink_keeps_alerts_in_development(client: TestClient) -> None:
    alert = {"team": "logistics", "severity": "urgent", "text": "colis écrasé"}
    assert client.post("/api/v1/dev/webhook-sink", json=alert).status_code == 200
    assert client.get("/api/v1/dev/webhook-sink").status_code == 401
    items = client.get("/api/v1/dev/webhook-sink", headers=AUTH).json()["items"]
    assert [i["body"] for i in items] == [alert]


def test_dev_webhook_sink_does_not_exist_outside_development(
    services: Any, rasa: FakeRasaClient
) -> None:
    services.settings = services.settings.model_copy(update={"environment": "production"})
    with TestClient(create_app(services=services, rasa=rasa)) as test_client:
        response = test_client.post("/api/v1/dev/webhook-sink", json={})
    assert response.status_code == 404


def test_catalogue_has_every_web_key_in_both_languages() -> None:
    fr = {k for k in catalogue("fr") if k.startswith("web.")}
    en = {k for k in catalogue("en") if k.startswith("web.")}
    assert fr == en and len(fr) > 20


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_the_chat_takes_json_only_so_no_page_posts_without_a_preflight(
    client: TestClient, content_type: str
) -> None:
    body = json.dumps({"conversation_id": "c-json-only-1", "text": "Mon colis est en retard"})
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/v1/chat", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    ok = client.post(
        "/api/v1/chat", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 200


def test_a_chat_body_nested_fifty_thousand_deep_is_a_clear_400(client: TestClient) -> None:
    raw = '{"conversation_id": "c-deep-1", "text": "x", "more": ' + "[" * 50_000 + "]" * 50_000
    response = client.post(
        "/api/v1/chat", content=raw + "}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["error"]["message"]


def test_the_public_chat_refuses_the_employee_audience_without_a_link(
    client: TestClient, rasa: FakeRasaClient, web_settings: Any
) -> None:
    body = {"conversation_id": "emp-1", "text": "Mon gérant me crie après", "audience": "employee"}
    refused = client.post("/api/v1/chat", json={**body, "language": "fr"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "employee_link_required"
    assert "réservé à la clientèle" in refused.json()["replies"][0]["text"]
    forged = client.post("/api/v1/chat", json={**body, "employee_link": "forged.link.value"})
    assert forged.status_code == 403
    assert rasa.sent == []  # nothing reached Rasa, nothing was stored as an employee's

    link = links.issue(web_settings.secret_key, campaign="pulse-q4", days=7)
    opened = client.post("/api/v1/chat", json={**body, "employee_link": link})
    assert opened.status_code == 200
    by_token = client.post("/api/v1/chat", json=body, headers=AUTH)  # a trusted integration
    assert by_token.status_code == 200
    assert [metadata["audience"] for _, _, metadata in rasa.sent] == ["employee", "employee"]
    customer = client.post("/api/v1/chat", json={**body, "audience": "customer"})
    assert customer.status_code == 200


def test_openapi_documents_the_statuses_the_routes_really_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"200", "400", "403", "415"} <= set(paths["/api/v1/chat"]["post"]["responses"])
    workflow = paths["/api/v1/feedback/{feedback_id}/{action}"]["post"]
    assert {"400", "401", "404", "409"} <= set(workflow["responses"])
    action = next(p for p in workflow["parameters"] if p["name"] == "action")
    assert set(action["schema"]["enum"]) >= {"acknowledge", "resolve", "reassign"}
    events = paths["/api/v1/events"]["post"]
    assert {"202", "401", "422"} <= set(events["responses"])
    assert any(
        p["name"] == "X-Vecu-Signature" and p["in"] == "header" for p in events["parameters"]
    )
    assert {"401"} <= set(paths["/api/v1/feedback"]["get"]["responses"])
