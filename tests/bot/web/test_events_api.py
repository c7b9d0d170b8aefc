"""Tests of bot/web/events.py: the signed events API and the person view (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.channels.rasa import FakeRasaClient
from bot.contact.events import sign
from bot.contact.surveys import FakeOutbound
from bot.services import FixedClock
from bot.storage.models import TouchpointEventRecord
from bot.web.app import create_app

TOKEN = "test-token-0123456789abcdef"  # the web conftest's API token

SECRET = "events-secret-0123456789"
DAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DAY)


@pytest.fixture
def app_services(services: Any, clock: FixedClock) -> Any:
    services.settings = services.settings.model_copy(update={"events_secret": SECRET})
    services.clock = clock
    return services


@pytest.fixture
def outbound() -> FakeOutbound:
    return FakeOutbound()


@pytest.fixture
def client(app_services: Any, outbound: FakeOutbound) -> Iterator[TestClient]:
    app = create_app(services=app_services, rasa=FakeRasaClient())
    app.state.contact_outbound = outbound
    with TestClient(app) as test_client:
        yield test_client


def event(event_id: str = "evt-1", **changes: Any) -> bytes:
    body: dict[str, Any] = {
        "event_id": event_id,
        "person": {"external_id": "C-1001", "telegram_chat_id": 4242, "language": "fr"},
        "touchpoint": "delivery",
        "kind": "done",
        "occurred_at": "2026-11-23T09:55:00-05:00",
        "attributes": {"carrier": "Purolator"},
    }
    body.update(changes)
    return json.dumps(body).encode()


def post(client: TestClient, raw: bytes, signature: str | None = "good") -> Any:
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        headers["X-Vecu-Signature"] = sign(raw, SECRET)
    elif signature is not None:
        headers["X-Vecu-Signature"] = signature
    return client.post("/api/v1/events", content=raw, headers=headers)


def stored_events(services: Any) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(TouchpointEventRecord)) or 0)


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_done_event_surveys_once_then_caps_the_next_day(
    client: TestClient, outbound: FakeOutbound, clock: FixedClock
) -> None:
    first = post(client, event())
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["status"] == "accepted"
    assert answer["decision"] == {"outcome": "sent", "reason": "ok", "detail": None,
                                  "not_before": None}  # fmt: skip
    [(target, intent, entities)] = outbound.calls  # sent right after the answer
    assert (intent, entities, target.language, target.address) == (
        "EXTERNAL_survey", {"touchpoint": "delivery"}, "fr", "4242",
    )  # fmt: skip

    again = post(client, event())
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate" and again.json()["duplicate"] is True
    assert len(outbound.calls) == 1

    clock.advance(86_400)
    next_day = post(client, event("evt-2", occurred_at="2026-11-24T10:00:00-05:00"))
    assert next_day.status_code == 202
    decision = next_day.json()["decision"]
    assert (decision["outcome"], decision["reason"]) == ("suppressed", "frequency_cap")
    assert len(outbound.calls) == 1

    person_id = answer["person_id"]
    decisions = client.get(f"/api/v1/persons/{person_id}/decisions", headers=AUTH).json()
    assert [(d["event_id"], d["outcome"], d["reason"]) for d in decisions["items"]] == [
        ("evt-1", "sent", "ok"), ("evt-2", "suppressed", "frequency_cap"),
    ]  # fmt: skip
    view = client.get(f"/api/v1/persons/{person_id}", headers=AUTH).json()
    assert view["kind"] == "customer" and view["language"] == "fr"
    assert {i["kind"]: i["value"] for i in view["identities"]} == {
        "external": "C-1001", "telegram": "4242",
    }  # fmt: skip
    kinds = [item["type"] for item in view["timeline"]]
    assert kinds.count("event") == 2 and kinds.count("decision") == 2
    assert view["timeline"][0]["attributes"] == {"carrier": "Purolator"}


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "nonsense", "bad-secret"])
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    client: TestClient, app_services: Any, outbound: FakeOutbound, signature: str | None
) -> None:
    raw = event()
    if signature == "bad-secret":
        signature = sign(raw, "not-the-secret")
    answer = post(client, raw, signature)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"
    assert "X-Vecu-Signature" in answer.json()["error"]["message"]
    assert stored_events(app_services) == 0 and outbound.calls == []


def test_a_tampered_body_is_refused(client: TestClient, app_services: Any) -> None:
    raw = event()
    answer = client.post("/api/v1/events", content=raw.replace(b"4242", b"4243"),
                         headers={"X-Vecu-Signature": sign(raw, SECRET)})  # fmt: skip
    assert answer.status_code == 401 and stored_events(app_services) == 0


def test_without_a_configured_secret_every_event_is_refused(
    services: Any, outbound: FakeOutbound
) -> None:
    app = create_app(services=services, rasa=FakeRasaClient())  # events_secret: placeholder
    with TestClient(app) as client:
        raw = event()
        answer = client.post("/api/v1/events", content=raw,
                             headers={"X-Vecu-Signature": sign(raw, "change-me")})  # fmt: skip
    assert answer.status_code == 401


def test_a_malformed_event_gets_422_naming_every_problem(
    client: TestClient, app_services: Any
) -> None:
    answer = post(client, event(kind="finished", touchpoint="teleport"))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_event"
    assert any(p.startswith("kind:") for p in error["problems"])
    assert "kind" in error["message"]
    assert post(client, b"{not json").status_code == 422
    answer = post(client, event(touchpoint="teleport"))
    assert "unknown 'teleport'" in answer.json()["error"]["message"]
    assert stored_events(app_services) == 0


def test_person_routes_need_the_token_and_know_unknown_ids(client: TestClient) -> None:
    assert client.get("/api/v1/persons/nobody").status_code == 401
    missing = client.get("/api/v1/persons/nobody", headers=AUTH)
    assert missing.status_code == 404
    assert client.get("/api/v1/persons/nobody/decisions", headers=AUTH).status_code == 404


def test_employees_are_shown_pseudonymously(client: TestClient) -> None:
    raw = event("evt-e", touchpoint="tools",
                person={"external_id": "EMP-42", "telegram_chat_id": 9001})  # fmt: skip
    person_id = post(client, raw).json()["person_id"]
    view = client.get(f"/api/v1/persons/{person_id}", headers=AUTH).json()
    assert view["kind"] == "employee"
    text = json.dumps(view)
    assert "EMP-42" not in text and "9001" not in text and "Purolator" not in text
    assert all(i["pseudonym"].startswith("p_") for i in view["identities"])


def test_a_body_nested_twenty_thousand_deep_is_a_422_not_a_500(client: TestClient) -> None:
    raw = ('{"a":' * 20_000 + "1" + "}" * 20_000).encode()
    answer = post(client, raw)
    assert answer.status_code == 422
    assert "nested deeper than" in answer.json()["error"]["message"]
