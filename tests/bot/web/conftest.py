"""Fixtures of the web tests: a stand-in Rasa on a real local socket, settings, fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def web_settings(tmp_path: Any) -> Any:
    """Settings of the app tests: development, a known token and key, a temp SQLite file."""
    from bot.settings import ROOT, Settings

    return Settings(
        VECU_ENV="development",
        VECU_COMPANY_CONFIG=ROOT / "company.yml",
        VECU_MAX_TEXT_LENGTH=5000,
        RASA_TIMEOUT_S=5.0,
        VECU_API_TOKEN=TOKEN,
        VECU_SECRET_KEY="web-tests-secret-key-0123456789",
        DATABASE_URL=f"sqlite:///{tmp_path / 'vecu.db'}",
        RASA_URL="http://127.0.0.1:9",
        ACTIONS_URL="http://127.0.0.1:9",
    )


@pytest.fixture
def services(web_settings: Any) -> Iterator[Any]:
    """Real services on a migrated temp SQLite database, with a static (angry) scorer."""
    from bot.company import load_company
    from bot.scoring.base import StaticScorer
    from bot.services import build_services
    from bot.storage.migrate import upgrade

    company = load_company(web_settings.company_config)
    groups = list(company.emotion_groups)
    emotions = {g: (0.5 if g == "anger" else 0.5 / (len(groups) - 1)) for g in groups}
    scorer = StaticScorer({"negative": 0.8, "neutral": 0.15, "positive": 0.05}, emotions)
    built = build_services(web_settings, company=company, scorer=scorer)
    upgrade(built.engine)
    yield built
    built.dispose()
