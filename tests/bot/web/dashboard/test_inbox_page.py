"""Tests of the team inbox page (/dashboard/inbox): what each account sees, and its forms.

The forms go through the real app (TestClient), the real workflow and the database; the
browser test (test_browser.py) works one alert end to end in Chromium.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from dashboard_helpers import ADMIN, MANAGER, csrf_of, login
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.alerts.inbox import open_alerts
from bot.feedback.intake import Message, record
from bot.scoring.base import StaticScorer
from bot.services import Services
from bot.storage.models import AlertEventRecord, FeedbackRecord

GROUPS = ("anger", "frustration", "confusion", "fear", "sadness", "disgust", "surprise", "joy",
          "gratitude", "neutral")  # fmt: skip
ANGRY = StaticScorer(
    {"negative": 0.9, "neutral": 0.07, "positive": 0.03},
    {g: (0.8 if g == "anger" else 0.02) for g in GROUPS},
)


@pytest.fixture
def alerts(services: Services) -> dict[str, int]:
    """Two angry customers: a lost parcel (logistics) and a double charge (billing)."""
    services.scorer = ANGRY
    ids = {}
    for key, text in (
        ("delivery", "My parcel is lost, call me at 514-555-0199"),
        ("billing", "I was charged twice on my invoice"),
    ):
        message = Message(conversation_id=f"p_{key}", text=text, language="en",
                          audience="customer", channel="web")  # fmt: skip
        ids[key] = record(message, services=services).feedback_id
    return ids


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def act(client: TestClient, feedback_id: int, action: str, **form: str) -> dict[str, list[str]]:
    """Post an inbox form as the page does; returns the redirect's query."""
    token = csrf_of(client.get("/dashboard/inbox").text)
    response = client.post(
        f"/dashboard/inbox/{feedback_id}/{action}",
        data={"csrf_token": token, **form},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert target.path == "/dashboard/inbox" and target.fragment == "inbox-notice"
    return parse_qs(target.query)


def row(services: Services, feedback_id: int) -> FeedbackRecord:
    with services.sessions() as session:
        found = session.get(FeedbackRecord, feedback_id)
        assert found is not None
        return found


def events(services: Services, feedback_id: int) -> list[AlertEventRecord]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(AlertEventRecord).where(AlertEventRecord.feedback_id == feedback_id)
            )
        )


def test_the_admin_works_an_alert_in_english(
    admin: TestClient, services: Services, alerts: dict[str, int]
) -> None:
    page = admin.get("/dashboard/inbox?lang=en")
    assert page.status_code == 200
    seen = text_of(page.text)
    total = open_alerts(teams=None, services=services).total  # the seeded ones and these two
    assert "Team inbox" in seen and f"open or acknowledged alerts matching: {total}" in seen
    assert "charged twice" in seen and "parcel is lost" in seen
    assert "514-555-0199" not in page.text  # the team reads the redacted text
    parcel = alerts["delivery"]

    assert act(admin, parcel, "acknowledge") == {
        "done": ["acknowledge"], "ref": [str(parcel)], "lang": ["en"]
    }  # fmt: skip
    assert row(services, parcel).status == "acknowledged"
    [event] = events(services, parcel)
    assert (event.action, event.actor_channel, event.actor_name) == (
        "acknowledged", "dashboard", ADMIN[0]
    )  # fmt: skip
    shown = text_of(admin.get(f"/dashboard/inbox?done=acknowledge&ref={parcel}").text)
    assert f"Alert #{parcel} acknowledged." in shown
    assert act(admin, parcel, "acknowledge")["done"] == ["already_acknowledge"]

    outcome = act(admin, parcel, "resolve", message="We found your parcel.")
    assert outcome["done"] == ["resolve"] and outcome["told"] == ["0"]  # no consent given
    assert row(services, parcel).status == "resolved"
    assert [e.action for e in events(services, parcel)] == ["acknowledged", "resolved"]
    after = text_of(admin.get("/dashboard/inbox").text)
    assert "parcel is lost" not in after and f"alerts matching: {total - 1}" in after
    assert act(admin, parcel, "acknowledge")["error"] == ["invalid_transition"]


def test_reassign_and_bad_requests_change_nothing_unasked(
    admin: TestClient, services: Services, alerts: dict[str, int]
) -> None:
    bill = alerts["billing"]
    team = row(services, bill).team
    assert act(admin, bill, "reassign", to_team="nobody") == {
        "error": ["unknown_team"], "ref": [str(bill)], "lang": ["fr"]
    }  # fmt: skip
    assert act(admin, bill, "reassign", to_team="logistics")["to"] == ["logistics"]
    assert row(services, bill).team == "logistics" and row(services, bill).status == "open"
    [event] = events(services, bill)
    assert (event.team, event.to_team) == (team, "logistics")
    assert act(admin, 999_999, "acknowledge")["error"] == ["not_found"]
    assert act(admin, bill, "reopen")["error"] == ["invalid_transition"]
    refused = admin.post(
        f"/dashboard/inbox/{bill}/resolve", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert "error=csrf" in refused.headers["location"]
    assert row(services, bill).status == "open"


def test_a_manager_sees_and_acts_on_their_teams_only(
    app: Any, services: Services, alerts: dict[str, int]
) -> None:
    with TestClient(app, base_url="http://testserver") as lea:
        assert login(lea, *MANAGER).status_code == 303
        page = text_of(lea.get("/dashboard/inbox?lang=fr").text)
        assert "Boîte de l'équipe" in page and "Prendre en charge" in page
        assert "parcel is lost" in page and "charged twice" not in page
        assert lea.get("/dashboard/inbox?team=billing").status_code == 403
        bill = alerts["billing"]
        assert act(lea, bill, "resolve")["error"] == ["forbidden"]
        assert row(services, bill).status == "open" and events(services, bill) == []


def test_the_inbox_asks_for_a_login(client: TestClient) -> None:
    response = client.get("/dashboard/inbox", follow_redirects=False)
    assert response.status_code == 303 and "/dashboard/login" in response.headers["location"]
    posted = client.post("/dashboard/inbox/1/resolve", data={}, follow_redirects=False)
    assert posted.status_code == 303 and "/dashboard/login" in posted.headers["location"]


def test_reassigning_needs_a_chosen_team_and_a_confirmation(
    admin: TestClient, alerts: dict[str, int]
) -> None:
    page = admin.get("/dashboard/inbox?lang=fr").text
    bill = alerts["billing"]
    select = page.split(f'id="to-{bill}"', 1)[1].split("</select>", 1)[0]
    first = select.split("<option", 2)[1]
    assert 'value=""' in first and "selected disabled" in first and "Choisir une équipe" in first
    assert 'name="to_team" required' in page
    form = page.split(f'/inbox/{bill}/reassign"', 1)[1].split(">", 1)[0]
    assert "data-confirm=" in form and f"n° {bill}" in form
    assert "/assets/dashboard.js" in page  # the confirmation's script (no inline script: CSP)
    assert "error" in act(admin, bill, "reassign", to_team="")  # nothing chosen: nothing moved


def test_a_card_shows_the_follow_up_answer_and_whether_they_want_to_hear_back(
    admin: TestClient, services: Services, alerts: dict[str, int]
) -> None:
    from bot.contact.routes import save_route, set_consent
    from bot.domain import Kind

    bill = alerts["billing"]
    record(
        Message(conversation_id="p_billing", text="A refund of the second charge, quickly",
                language="en", channel="web", kind=Kind.FOLLOWUP, parent_id=bill),
        services=services,
    )  # fmt: skip
    save_route(conversation_id="p_billing", audience="customer", channel="web",
               address="p_billing", language="en", services=services)  # fmt: skip
    set_consent("p_billing", True, channel="web", services=services)
    page = text_of(admin.get("/dashboard/inbox?lang=en").text)
    card = page.split(f"#{bill} ", 1)[1]
    assert "What would have made it right" in card
    assert "A refund of the second charge, quickly" in card
    assert "Hear back when resolved yes, they asked to be told" in card
    parcel = page.split(f"#{alerts['delivery']} ", 1)[1].split(f"#{bill} ", 1)[0]
    assert "not asked yet" in parcel or "not asked yet" in page


def test_the_inbox_pages_and_filters_by_severity_and_overdue(
    admin: TestClient, services: Services, clock: Any
) -> None:
    services.scorer = ANGRY
    for n in range(120):
        text = f"Colis {n} perdu, c'est inacceptable"
        message = Message(conversation_id=f"p_many{n:03d}", text=text, language="fr", channel="web")
        record(message, services=services)
    total = open_alerts(teams=None, services=services).total
    pages = -(-total // 50)
    first = admin.get("/dashboard/inbox")
    assert first.text.count('class="alert alert--') == 50
    assert f"Page 1 sur {pages}" in text_of(first.text) and 'id="inbox-next"' in first.text
    assert 'id="inbox-prev"' not in first.text
    last = admin.get(f"/dashboard/inbox?page={pages}")
    assert last.text.count('class="alert alert--') == total - 50 * (pages - 1)
    assert 'id="inbox-prev"' in last.text and 'id="inbox-next"' not in last.text
    assert len(admin.get("/dashboard/inbox?page=999").content) < len(first.content)  # empty page
    severities = {
        item.severity for item in open_alerts(teams=None, limit=500, services=services).items
    }
    for severity in severities:
        page = admin.get(f"/dashboard/inbox?severity={severity}").text
        assert f"alert--{severity}" in page
        assert all(f"alert alert--{other}" not in page for other in severities - {severity})
    late = admin.get("/dashboard/inbox?overdue=1").text  # only the seeded old ones are late
    assert late.count('class="alert alert--') == late.count('alert--overdue"')
    assert late.count('class="alert alert--') < 50
    clock.advance(30 * 24 * 3600)  # a month later, every SLA has passed
    assert login(admin, *ADMIN).status_code == 303  # (the session of a month ago has expired)
    overdue = admin.get("/dashboard/inbox?overdue=1").text
    assert overdue.count('class="alert alert--') == 50 and "alert--overdue" in overdue
