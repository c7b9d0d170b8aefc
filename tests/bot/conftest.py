"""Shared fixtures of the domain tests: configuration, migrated databases, services, fakes.

``engine`` is parametrised: every test using it runs on a temporary SQLite file and, when
the PostgreSQL server on 127.0.0.1:5432 answers, on a throw-away schema there too (those
cases carry the ``postgres`` marker and are skipped cleanly when the server is absent).
Both databases are created by the Alembic migrations, never by ``create_all``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.company import Company, load_company
from bot.errors import ScoringError
from bot.scoring.base import Scores, StaticScorer
from bot.services import FixedClock, Services, build_services
from bot.settings import ROOT, Settings
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "VECU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GROUPS = ("anger", "frustration", "confusion", "fear", "sadness", "disgust", "surprise", "joy",
          "gratitude", "neutral")  # fmt: skip


def emotions(main: str, p: float = 0.7) -> dict[str, float]:
    """Emotion scores with ``main`` at ``p`` and the rest spread evenly."""
    rest = (1 - p) / (len(GROUPS) - 1)
    return {g: (p if g == main else rest) for g in GROUPS}


def sentiment(neg: float, neu: float, pos: float) -> dict[str, float]:
    return {"negative": neg, "neutral": neu, "positive": pos}


ANGRY = StaticScorer(sentiment(0.9, 0.07, 0.03), emotions("anger"), version="static-angry")
UNHAPPY = StaticScorer(sentiment(0.6, 0.3, 0.1), emotions("frustration", 0.5), version="s-unhappy")
HAPPY = StaticScorer(sentiment(0.02, 0.08, 0.9), emotions("joy"), version="static-happy")
NEUTRAL = StaticScorer(sentiment(0.1, 0.8, 0.1), emotions("neutral"), version="static-neutral")


class FailingScorer:
    """A scorer whose model is broken."""

    @property
    def version(self) -> str:
        return "broken"

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        raise ScoringError("model file is corrupt")


class ExplodingScorer(FailingScorer):
    """A scorer that fails with an unexpected exception type."""

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        raise RuntimeError("onnxruntime segfault simulation")


class Fakes:
    """The fakes and score builders tests reach through the ``fakes`` fixture."""

    ANGRY = ANGRY
    UNHAPPY = UNHAPPY
    HAPPY = HAPPY
    NEUTRAL = NEUTRAL
    FailingScorer = FailingScorer
    ExplodingScorer = ExplodingScorer
    FixedClock = FixedClock
    StaticScorer = StaticScorer
    emotions = staticmethod(emotions)
    sentiment = staticmethod(sentiment)


@pytest.fixture
def fakes() -> type[Fakes]:
    """Scorers, clock and score builders for tests in any folder."""
    return Fakes


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at 2026-11-23 12:00 UTC."""
    return FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def company() -> Company:
    """The shipped demo configuration."""
    return load_company(ROOT / "company.yml", env={})


_POSTGRES: list[bool] = []


def _postgres_available() -> bool:
    """Whether the test PostgreSQL answers (asked once per session)."""
    if not _POSTGRES:
        try:
            import psycopg

            with psycopg.connect(
                POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2
            ):
                _POSTGRES.append(True)
        except Exception:
            _POSTGRES.append(False)
    return _POSTGRES[0]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database (SQLite file, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'var' / 'vecu.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    if not _postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"vecu_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_settings(db_url: str = "sqlite://", **overrides: object) -> Settings:
    """Settings for tests (no .env file, test environment, a fixed secret)."""
    values: dict[str, object] = {
        "VECU_ENV": "test",
        "DATABASE_URL": db_url,
        "VECU_SECRET_KEY": "test-secret",
        "VECU_ALERT_MAX_ATTEMPTS": 4,
        "VECU_ALERT_BACKOFF_S": 2.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test


MakeServices = Callable[..., Services]


@pytest.fixture
def make_services(engine: Engine, company: Company) -> MakeServices:
    """Build services on the migrated ``engine`` (scorer, clock, company, settings overridable)."""

    def make(
        scorer: object = NEUTRAL,
        *,
        clock: FixedClock | None = None,
        company_config: Company | None = None,
        settings: Mapping[str, object] | None = None,
    ) -> Services:
        return build_services(
            test_settings(engine.url.render_as_string(hide_password=False), **dict(settings or {})),
            company=company_config or company,
            engine=engine,
            scorer=scorer,  # type: ignore[arg-type]
            clock=clock or FixedClock(),
        )

    return make
