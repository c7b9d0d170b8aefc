"""Tests of bot/web/workflow_api.py: the workflow over the token-protected API, the inbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.alerts.workflow import history
from bot.channels.rasa import FakeRasaClient
from bot.channels.web.chat import web_pseudonym
from bot.contact.outbound import Route
from bot.contact.routes import set_consent, store_inbox
from bot.feedback.intake import Message, record
from bot.web.app import create_app

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(services: Any) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, rasa=FakeRasaClient())) as test_client:
        yield test_client


def complaint(services: Any, conversation: str = "p_api") -> int:
    message = Message(
        conversation_id=conversation, text="ma facture est fausse, on m'a chargé deux fois",
        language="fr", channel="web",
    )  # fmt: skip
    return record(message, services=services).feedback_id


def test_acknowledge_resolve_and_resolve_again(client: TestClient, services: Any) -> None:
    feedback_id = complaint(services)
    body = {"actor": {"id": "ops-42", "name": "Sam"}}
    acked = client.post(f"/api/v1/feedback/{feedback_id}/acknowledge", json=body, headers=AUTH)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged" and acked.json()["changed"] is True
    assert acked.json()["event"]["actor"] == {"channel": "api", "id": "ops-42", "name": "Sam"}
    resolved = client.post(f"/api/v1/feedback/{feedback_id}/resolve", headers=AUTH)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = client.post(f"/api/v1/feedback/{feedback_id}/resolve", headers=AUTH)
    assert again.status_code == 200
    assert again.json()["changed"] is False and "already" in again.json()["message"]
    assert [e.action for e in history(feedback_id, services=services)] == [
        "acknowledged",
        "resolved",
    ]


def test_reassign_and_its_errors(client: TestClient, services: Any) -> None:
    feedback_id = complaint(services)
    url = f"/api/v1/feedback/{feedback_id}/reassign"
    moved = client.post(url, json={"to_team": "customer_care"}, headers=AUTH)
    assert moved.status_code == 200 and moved.json()["team"] == "customer_care"
    unknown = client.post(url, json={"to_team": "martians"}, headers=AUTH)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_team"
    assert "billing" in unknown.json()["error"]["message"]
    garbage = client.post(url, content=b"{not json", headers=AUTH)
    assert garbage.status_code == 400
    client.post(f"/api/v1/feedback/{feedback_id}/resolve", headers=AUTH)
    conflict = client.post(f"/api/v1/feedback/{feedback_id}/acknowledge", headers=AUTH)
    assert conflict.status_code == 409
    assert "reopen it first" in conflict.json()["error"]["message"]
    missing = client.post("/api/v1/feedback/424242/resolve", headers=AUTH)
    assert missing.status_code == 404
    assert client.post(f"/api/v1/feedback/{feedback_id}/delete", headers=AUTH).status_code == 404


def test_the_api_token_is_required(client: TestClient, services: Any) -> None:
    feedback_id = complaint(services)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = client.post(f"/api/v1/feedback/{feedback_id}/resolve", headers=headers)
        assert answer.status_code == 401
    assert history(feedback_id, services=services) == []


def test_web_inbox_is_collected_once(client: TestClient, services: Any) -> None:
    pseudonym = web_pseudonym("browser-1", services.settings)
    set_consent(pseudonym, True, channel="web", language="fr", services=services)
    route = Route(pseudonym, "customer", "web", pseudonym, "fr")
    store_inbox(route, [{"text": "Bonne nouvelle : c'est réglé."}], services=services)
    first = client.get("/api/v1/chat/inbox", params={"conversation_id": "browser-1"})
    assert first.status_code == 200
    assert first.json() == {"replies": [{"text": "Bonne nouvelle : c'est réglé."}]}
    assert client.get("/api/v1/chat/inbox", params={"conversation_id": "browser-1"}).json() == {
        "replies": []
    }
    assert client.get("/api/v1/chat/inbox").status_code == 400


def test_resolve_with_closing_words_for_the_person(client: TestClient, services: Any) -> None:
    from sqlalchemy import select

    from bot.storage.models import AlertOutboxRecord

    feedback_id = complaint(services, "p_words")
    set_consent("p_words", True, channel="web", audience="customer", language="fr",
                services=services)  # fmt: skip
    url = f"/api/v1/feedback/{feedback_id}/resolve"
    too_long = client.post(url, json={"closing_message": "x" * 501}, headers=AUTH)
    assert too_long.status_code == 400  # refused whole: nothing resolved, nothing cut
    body = {"closing_message": "Le remboursement est parti ce matin.", "note": "ticket 42"}
    resolved = client.post(url, json=body, headers=AUTH)
    assert resolved.status_code == 200 and resolved.json()["contacted"] is True
    with services.sessions() as session:
        [row] = session.scalars(
            select(AlertOutboxRecord).where(AlertOutboxRecord.kind == "closing")
        )
        assert row.payload["message"] == "Le remboursement est parti ce matin."
        assert "ticket 42" not in str(row.payload)  # the team's note is never sent


@pytest.mark.parametrize(
    "feedback_id", ["99999999999999999999999", "9223372036854775808", "0", "-4"]
)
def test_an_id_out_of_range_is_not_found_not_a_500(client: TestClient, feedback_id: str) -> None:
    response = client.post(
        f"/api/v1/feedback/{feedback_id}/acknowledge", headers=AUTH, json={"actor": {"id": "a"}}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_workflow_body_nested_too_deep_is_a_400(client: TestClient) -> None:
    raw = '{"actor": ' + "[" * 5_000 + "]" * 5_000 + "}"
    response = client.post(
        "/api/v1/feedback/1/acknowledge",
        content=raw,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["error"]["message"]
