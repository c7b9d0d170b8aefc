"""Fixtures of the action tests: a migrated SQLite file and installed services.

Actions reach :mod:`bot` through :func:`bot.services.get_services`; each test installs its
own services (temporary database, a :class:`~bot.scoring.base.StaticScorer`, a fixed clock)
with :func:`bot.services.set_services` and removes them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from action_helpers import NEUTRAL

from bot.company import load_company
from bot.services import FixedClock, Services, build_services, reset_services, set_services
from bot.settings import ROOT, Settings
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Process-wide services on a fresh, migrated SQLite file (neutral scorer by default)."""
    url = f"sqlite:///{tmp_path / 'vecu.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, VECU_ENV="test", DATABASE_URL=url, VECU_SECRET_KEY="test-secret"
    )
    built = build_services(
        settings,
        company=load_company(ROOT / "company.yml", env={}),
        engine=engine,
        scorer=NEUTRAL,
        clock=FixedClock(),
    )
    set_services(built)
    yield built
    reset_services()
    engine.dispose()
