"""Tests of bot/web/privacy.py: export and erase over HTTP, token-protected and audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.channels.rasa import FakeRasaClient
from bot.feedback.intake import Message, record
from bot.privacy.pseudonyms import pseudonym
from bot.privacy.rights import ANONYMOUS, Actor
from bot.storage.models import (
    FeedbackRecord,
    PersonIdentityRecord,
    PersonRecord,
    PrivacyAuditRecord,
)
from bot.web.app import create_app

TOKEN = "test-token-0123456789abcdef"  # web_settings' VECU_API_TOKEN (conftest.py)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PERSON = "f" * 32
CHAT_ID = "424242"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(services: Any) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, rasa=FakeRasaClient())) as test_client:
        yield test_client


@pytest.fixture
def person(services: Any) -> str:
    """A Telegram customer with one feedback naming them."""
    conversation = pseudonym(CHAT_ID, channel="telegram", secret=services.settings.secret_key)
    with services.sessions.begin() as session:
        session.add(
            PersonRecord(
                id=PERSON,
                kind="customer",
                language="fr",
                time_zone=None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        session.add(
            PersonIdentityRecord(
                person_id=PERSON,
                kind="telegram",
                scope="customer",
                value=CHAT_ID,
                conversation_id=conversation,
                created_at=NOW,
                last_seen_at=NOW,
            )
        )
    record(
        Message(
            conversation_id=conversation,
            text="Je suis Paul Gauthier, mon colis est perdu, appelez le 438-555-0101",
            language="fr",
            channel="telegram",
        ),
        services=services,
    )
    return conversation


def audit_rows(services: Any) -> list[PrivacyAuditRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(PrivacyAuditRecord).order_by(PrivacyAuditRecord.id)))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/privacy/persons/{PERSON}/export"),
        ("POST", f"/api/v1/privacy/persons/{PERSON}/erase"),
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_privacy_routes_need_the_token(
    client: TestClient, services: Any, person: str, method: str, path: str, headers: Any
) -> None:
    answer = client.request(method, path, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert audit_rows(services) == []
    with services.sessions() as session:
        assert session.get(PersonRecord, PERSON) is not None


def test_export_over_http_by_any_reference(client: TestClient, services: Any, person: str) -> None:
    for ref in (PERSON, f"telegram:{CHAT_ID}", person):
        answer = client.get(f"/api/v1/privacy/persons/{ref}/export", headers=AUTH)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["schema"] == "vecu.person-export/1"
        assert body["person"]["id"] == PERSON
        assert [i["value"] for i in body["identities"]] == [CHAT_ID]
        [feedback] = body["feedback"]
        assert "[NOM]" in feedback["text"] and "Gauthier" not in feedback["text"]
        assert answer.headers["cache-control"] == "no-store"
    rows = audit_rows(services)
    assert [r.action for r in rows] == ["export"] * 3
    assert {r.actor for r in rows} == {Actor.token(TOKEN).name}
    assert TOKEN not in {r.actor for r in rows}


def test_erase_over_http(client: TestClient, services: Any, person: str) -> None:
    answer = client.post(f"/api/v1/privacy/persons/telegram:{CHAT_ID}/erase", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["erased"] is True and body["feedback_anonymised"] == 1 and body["identities"] == 1
    with services.sessions() as session:
        assert session.get(PersonRecord, PERSON) is None
        [row] = session.scalars(select(FeedbackRecord)).all()
        assert row.conversation_id == ANONYMOUS and row.text == ""
    assert [r.action for r in audit_rows(services)] == ["erase"]
    again = client.post(f"/api/v1/privacy/persons/{PERSON}/erase", headers=AUTH)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


def test_unknown_person_is_404_and_not_audited(client: TestClient, services: Any) -> None:
    for method, action in (("GET", "export"), ("POST", "erase")):
        answer = client.request(method, f"/api/v1/privacy/persons/nobody/{action}", headers=AUTH)
        assert answer.status_code == 404
        assert answer.json()["error"]["message"] == "No person matches this identifier."
    assert audit_rows(services) == []


def test_the_person_view_is_audited_and_shows_redacted_text(
    client: TestClient, services: Any, person: str
) -> None:
    answer = client.get(f"/api/v1/persons/{PERSON}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    [feedback] = [e for e in answer.json()["timeline"] if e["type"] == "feedback"]
    assert "Gauthier" not in feedback["text"] and "[TÉLÉPHONE]" in feedback["text"]
    assert client.get(f"/api/v1/persons/{PERSON}/decisions", headers=AUTH).status_code == 200
    rows = audit_rows(services)
    assert [(r.action, r.person_id, r.detail["route"]) for r in rows] == [
        ("view", PERSON, "person"),
        ("view", PERSON, "decisions"),
    ]
    assert rows[0].actor == Actor.token(TOKEN).name
    assert client.get("/api/v1/persons/nobody", headers=AUTH).status_code == 404
    assert len(audit_rows(services)) == 2
