"""Fixtures of the dashboard tests: the seeded database, the app on the real services, a
logged-in client (data and helpers in ``dashboard_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import (
    ADMIN,
    CHEAP,
    MANAGER,
    NOW,
    dashboard_settings,
    login,
    seed_rows,
)
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bot.company import load_company
from bot.scoring.base import StaticScorer
from bot.services import FixedClock, Services, build_services
from bot.storage.migrate import upgrade
from bot.storage.models import AlertOutboxRecord, FeedbackRecord
from bot.web.app import create_app
from bot.web.dashboard.users import add_user


@pytest.fixture
def clock() -> FixedClock:
    """The services' clock, at :data:`NOW`."""
    return FixedClock(NOW)


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    """Real services on a migrated temp SQLite database holding :func:`seed_rows`."""
    settings = dashboard_settings(tmp_path)
    company = load_company(settings.company_config)
    emotions = {g: 1 / len(company.emotion_groups) for g in company.emotion_groups}
    scorer = StaticScorer({"negative": 0.1, "neutral": 0.8, "positive": 0.1}, emotions)
    built = build_services(settings, company=company, scorer=scorer, clock=clock)
    upgrade(built.engine)
    rows = seed_rows()
    with built.engine.begin() as connection:
        result = connection.execute(insert(FeedbackRecord).returning(FeedbackRecord.id), rows)
        ids = [r[0] for r in result]
        # One alert per unhappy delivery rating.
        unhappy = [
            fid
            for fid, row in zip(ids, rows, strict=True)
            if row["scale"] == "csat" and row["rating"] <= 2
        ]
        connection.execute(
            insert(AlertOutboxRecord),
            [
                {
                    "alert_id": f"a-{fid}",
                    "feedback_id": fid,
                    "team": "logistics",
                    "destination": "demo-webhook",
                    "kind": "issue",
                    "severity": "normal",
                    "payload": {},
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": NOW,
                    "last_error": None,
                    "created_at": NOW,
                    "sent_at": NOW,
                }
                for fid in unhappy
            ],
        )
    add_user(*ADMIN, role="admin", services=built, cost=CHEAP)
    add_user(*MANAGER, role="manager", teams=["logistics"], services=built, cost=CHEAP)
    yield built
    built.dispose()


@pytest.fixture
def app(services: Services) -> Any:
    """The web app on the test services (cheap password hashing)."""
    application = create_app(services=services)
    application.state.dashboard.cost = CHEAP
    return application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An anonymous browser."""
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """A browser logged in as the admin."""
    response = login(client, *ADMIN)
    assert response.status_code == 303, response.text
    return client
