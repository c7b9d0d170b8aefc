"""Tests of bot/web/metrics_api.py: GET /api/v1/metrics over real recorded feedback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.channels.rasa import FakeRasaClient
from bot.domain import Audience, Kind, RatingScale
from bot.feedback.intake import Message, record
from bot.web.app import create_app


@pytest.fixture
def client(services: Any) -> Iterator[TestClient]:
    with TestClient(create_app(services=services, rasa=FakeRasaClient())) as test_client:
        test_client.headers["X-Test-Token"] = services.settings.api_token
        yield test_client


def _auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.headers['X-Test-Token']}"}


def _employee(services: Any, who: str, rating: int, kind: Kind, scale: RatingScale) -> None:
    record(
        Message(conversation_id=who, text="", language="fr", audience=Audience.EMPLOYEE,
                rating=rating, scale=scale, kind=kind, touchpoint="delivery",
                member_team="logistics"),
        services=services,
    )  # fmt: skip


def test_metrics_need_the_token(client: TestClient) -> None:
    assert client.get("/api/v1/metrics").status_code == 401
    wrong = client.get("/api/v1/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_bad_filters_are_a_400_naming_the_field(client: TestClient) -> None:
    for query, field in (("touchpoint=teleport", "touchpoint"), ("start=yesterday", "start"),
                         ("team=nobody", "team"), ("audience=robots", "audience"),
                         ("start=2026-11-10&end=2026-11-01", "end")):  # fmt: skip
        answer = client.get(f"/api/v1/metrics?{query}", headers=_auth(client))
        assert answer.status_code == 400, query
        assert answer.json()["error"]["code"] == "invalid_request"
        assert field in answer.json()["error"]["message"]


def test_recorded_feedback_reaches_the_metrics(client: TestClient, services: Any) -> None:
    for i, rating in enumerate([5, 4, 2]):
        record(Message(conversation_id=f"c{i}", text="Mon colis est arrivé écrasé", language="fr",
                       rating=rating, scale=RatingScale.CSAT, touchpoint="delivery"),
               services=services)  # fmt: skip
    record(Message(conversation_id="c9", text="", language="en", rating=5,
                   scale=RatingScale.EXPECTATION, kind=Kind.EXPECTATION, touchpoint="delivery"),
           services=services)  # fmt: skip
    for i in range(4):  # a group of 4 employees: nothing may show
        _employee(services, f"e{i}", 1, Kind.PROPOSED, RatingScale.MEANS)
    body = client.get("/api/v1/metrics?touchpoint=delivery", headers=_auth(client)).json()
    assert body["k_anonymity"] == 5
    assert body["customer"]["csat"]["n"] == 3
    assert body["customer"]["csat"]["value"] == pytest.approx(66.7)
    assert body["customer"]["expected"]["n"] == 1
    (delivery,) = body["touchpoints"]
    four = delivery["experiences"]
    assert four["intended"] == 85 and four["lived"]["n"] == 3 and four["expected"]["value"] == 100.0
    assert four["emotions"]["shares"]["anger"]["parts"]["count"] == 3  # the static angry scorer
    assert four["proposed"]["status"] == "suppressed"
    assert four["proposed"]["value"] is None and four["proposed"]["n"] is None
    assert four["gaps"][0]["name"] == "intended_proposed" and four["gaps"][0]["value"] is None
    assert body["employee"]["volume"] is None
    _employee(services, "e4", 5, Kind.PROPOSED, RatingScale.MEANS)  # the fifth person
    body = client.get("/api/v1/metrics?touchpoint=delivery", headers=_auth(client)).json()
    proposed = body["touchpoints"][0]["experiences"]["proposed"]
    assert proposed["n"] == 5 and proposed["value"] == 20.0 and proposed["status"] == "small_sample"
    assert body["touchpoints"][0]["experiences"]["gaps"][0]["value"] == 65.0


def test_language_filter_leaves_employees_out(client: TestClient, services: Any) -> None:
    for i in range(6):
        _employee(services, f"e{i}", 9, Kind.PULSE, RatingScale.ENPS)
    everyone = client.get("/api/v1/metrics", headers=_auth(client)).json()
    assert everyone["employee"]["enps"]["value"] == 100.0
    french = client.get("/api/v1/metrics?language=fr", headers=_auth(client)).json()
    assert french["employee"]["enps"]["status"] == "not_applicable"
    assert french["employee"]["enps"]["value"] is None
