"""Helpers of the dashboard tests: known feedback rows, settings, accounts, logging in.

The data (:func:`seed_rows`) is written straight into ``feedback`` so every number the pages
show can be computed by hand: delivery has customer ratings (CSAT, NPS, expectation), six
logistics employees answer the means, mirror and eNPS questions, and four billing employees
answer eNPS (a group under k = 5: it must be shown nowhere).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot.settings import ROOT, Settings
from bot.web.dashboard.passwords import Cost

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CHEAP = Cost(n=2**8, r=8, p=1)
"""A fast scrypt cost for tests (the shipped default is 2**15)."""
ADMIN = ("admin@example.org", "correct horse battery")
MANAGER = ("lea@example.org", "logistique-2026!")
TOKEN = "dashboard-tests-token-0123456789"
GROUPS = (
    "anger",
    "frustration",
    "confusion",
    "fear",
    "sadness",
    "disgust",
    "surprise",
    "joy",
    "gratitude",
    "neutral",
)


def dashboard_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Development settings on a temp SQLite file, no pause after a failed login."""
    values: dict[str, object] = {
        "VECU_ENV": "development",
        "VECU_COMPANY_CONFIG": ROOT / "company.yml",
        "VECU_API_TOKEN": TOKEN,
        "VECU_SECRET_KEY": "dashboard-tests-secret-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'vecu.db'}",
        "RASA_URL": "http://127.0.0.1:9",
        "ACTIONS_URL": "http://127.0.0.1:9",
        "VECU_DASHBOARD_LOGIN_FAILURE_DELAY_S": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _row(
    i: int,
    *,
    audience: str,
    scale: str | None,
    rating: int | None,
    touchpoint: str | None,
    who: str,
    days_ago: float,
    emotion: str = "neutral",
    sentiment: str = "neutral",
    language: str = "fr",
    channel: str = "web",
    member_team: str | None = None,
    team: str | None = None,
    text: str = "",
) -> dict[str, Any]:
    at = NOW - timedelta(days=days_ago)
    emotions = {g: (0.7 if g == emotion else 0.3 / (len(GROUPS) - 1)) for g in GROUPS}
    sentiments = {s: (0.8 if s == sentiment else 0.1) for s in ("negative", "neutral", "positive")}
    return {
        "conversation_id": who,
        "audience": audience,
        "channel": channel,
        "language": language,
        "kind": "rating" if scale else "comment",
        "parent_id": None,
        "touchpoint": touchpoint,
        "touchpoint_source": "context",
        "rating": rating,
        "scale": scale,
        "text": text or f"réponse {i}",
        "original_length": len(text or f"réponse {i}"),
        "truncated": False,
        "sentiment_label": sentiment,
        "sentiment_scores": sentiments,
        "emotion_label": emotion,
        "emotion_scores": emotions,
        "raw_emotions": None,
        "model_version": "test",
        "team": team,
        "severity": "low",
        "confidential": False,
        "negative": sentiment == "negative",
        "created_at": at,
        "updated_at": at,
        "status": "open",
        "member_team": member_team,
    }


def seed_rows() -> list[dict[str, Any]]:
    """The known data set (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    i = 0
    # Customers, delivery: 40 CSAT ratings over 4 weeks, 30 of them 4-5 (75 %).
    for n in range(40):
        rating = 5 if n < 20 else 4 if n < 30 else 2
        emotion, sentiment = ("joy", "positive") if rating >= 4 else ("anger", "negative")
        rows.append(
            _row(
                i := i + 1,
                audience="customer",
                scale="csat",
                rating=rating,
                touchpoint="delivery",
                who=f"p_c{n:03d}",
                days_ago=1 + n % 28,
                emotion=emotion,
                sentiment=sentiment,
                team="logistics",
                language="fr" if n % 2 else "en",
            )
        )
    # Customers, delivery: 20 NPS answers: 10 promoters, 4 passives, 6 detractors (NPS +20).
    for n in range(20):
        rating = 10 if n < 10 else 8 if n < 14 else 3
        rows.append(
            _row(
                i := i + 1,
                audience="customer",
                scale="nps",
                rating=rating,
                touchpoint="delivery",
                who=f"p_c{n:03d}",
                days_ago=2 + n % 20,
                team="logistics",
            )
        )
    # Customers, delivery: 20 expectations, 18 of them 4-5 (90 %).
    for n in range(20):
        rows.append(
            _row(
                i := i + 1,
                audience="customer",
                scale="expectation",
                rating=5 if n < 18 else 3,
                touchpoint="delivery",
                who=f"p_c{n:03d}",
                days_ago=1 + n % 20,
                team="logistics",
            )
        )
    # Six logistics employees, same week: means (2 of 6 say 4-5), mirror (5 of 6), eNPS.
    for n in range(6):
        who = f"p_e{n:03d}"
        rows.append(
            _row(
                i := i + 1,
                audience="employee",
                scale="means",
                rating=4 if n < 2 else 2,
                touchpoint="delivery",
                who=who,
                days_ago=3,
                member_team="logistics",
                team="logistics",
            )
        )
        rows.append(
            _row(
                i := i + 1,
                audience="employee",
                scale="mirror",
                rating=4 if n < 5 else 3,
                touchpoint="delivery",
                who=who,
                days_ago=3,
                member_team="logistics",
                team="logistics",
            )
        )
        rows.append(
            _row(
                i := i + 1,
                audience="employee",
                scale="enps",
                rating=9 if n < 3 else 5,
                touchpoint=None,
                who=who,
                days_ago=3,
                member_team="logistics",
            )
        )
    # Four billing employees (under k = 5): their eNPS must never show.
    for n in range(4):
        rows.append(
            _row(
                i := i + 1,
                audience="employee",
                scale="enps",
                rating=0,
                touchpoint=None,
                who=f"p_b{n:03d}",
                days_ago=3,
                member_team="billing",
            )
        )
    return rows


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str, **extra: str) -> Any:
    """Log in through the real form; returns the POST response (not followed)."""
    page = client.get("/dashboard/login")
    form = {"email": email, "password": password, "csrf_token": csrf_of(page.text), **extra}
    return client.post("/dashboard/login", data=form, follow_redirects=False)
