"""Services: the dependencies of the domain, built once, lazily, and replaceable in tests.

This module owns :class:`Services` (settings, company configuration, database engine and
session factory, scorer, clock) and the process-wide cached factory :func:`get_services`.
Nothing is built at import time. Tests build their own with :func:`build_services` (a temp
SQLite file, :class:`~bot.scoring.base.StaticScorer`, a fixed clock) and either pass it as
``services=`` or install it with :func:`set_services` (undo with :func:`reset_services`).

The shipped scorer is :class:`bot.scoring.onnx.OnnxScorer`, imported lazily; if that module
cannot be imported, :class:`UnavailableScorer` stands in so feedback is still recorded
(``model_version`` "unavailable") — never lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.company import Company, load_company
from bot.company.topics import TopicIndex, generic_messages, nlu_examples, shared_embedder
from bot.errors import ScoringError
from bot.scoring.base import Scorer, Scores
from bot.settings import Settings, get_settings
from bot.storage.engine import make_engine, make_sessions

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


class FixedClock:
    """The in-tree fake clock: returns a time the test sets and moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += timedelta(seconds=seconds)


class UnavailableScorer:
    """A scorer that always fails: stands in when the model cannot be loaded at all."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def version(self) -> str:
        return "unavailable"

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        raise ScoringError(self.reason)


def default_scorer(settings: Settings, company: Company) -> Scorer:
    """The shipped ONNX scorer (loads its model on first use).

    Falls back to :class:`UnavailableScorer` (logged) when ``bot.scoring.onnx`` cannot be
    imported or the scorer cannot be built, so feedback is still recorded.
    """
    try:
        from bot.scoring.onnx import OnnxScorer  # noqa: PLC0415 (optional: the model runtime)
    except ImportError as exc:  # the model package is missing from this install
        return UnavailableScorer(f"bot.scoring.onnx cannot be imported: {exc}")
    try:
        scorer: Scorer = OnnxScorer(
            settings.model_dir, company.emotion_groups, threads=settings.model_threads
        )
    except Exception as exc:  # a broken model must not stop feedback from being recorded
        log.exception("the emotion model cannot be prepared; feedback is stored unscored")
        return UnavailableScorer(f"the emotion model cannot be prepared: {exc}")
    return scorer


def default_topics(settings: Settings, company: Company) -> TopicIndex | None:
    """The touchpoint-by-meaning fallback (:mod:`bot.company.topics`), or ``None`` when switched off
    (``VECU_TOPIC_FALLBACK=false``) or when its examples cannot be read (logged)."""
    if not settings.topic_fallback:
        return None
    try:
        return TopicIndex(
            company,
            examples=nlu_examples(settings.nlu_dir),
            generic=generic_messages(),
            embedder=shared_embedder(settings.model_threads),
            cache_dir=settings.cache_dir,
        )
    except Exception:  # the fallback is optional: touchpoints still come from keywords
        log.exception("the touchpoint-by-meaning fallback cannot be prepared; keywords only")
        return None


@dataclass
class Services:
    """Everything the domain functions need, injected as one object.

    Attributes:
        settings: the process settings.
        company: the validated company configuration.
        engine: the database engine.
        sessions: the session factory bound to ``engine``.
        scorer: the sentiment/emotion scorer.
        clock: returns the current UTC time.
        topics: the touchpoint-by-meaning fallback, or ``None`` (keywords only).
    """

    settings: Settings
    company: Company
    engine: Engine
    sessions: sessionmaker[Session]
    scorer: Scorer
    clock: Clock = field(default=utcnow)
    topics: TopicIndex | None = None

    def dispose(self) -> None:
        """Close the database connections."""
        self.engine.dispose()


def build_services(
    settings: Settings | None = None,
    *,
    company: Company | None = None,
    engine: Engine | None = None,
    scorer: Scorer | None = None,
    clock: Clock | None = None,
    topics: TopicIndex | None = None,
) -> Services:
    """Build a :class:`Services` from settings, replacing any part given.

    Args:
        settings: defaults to :func:`bot.settings.get_settings`.
        company: defaults to the configuration at ``settings.company_config``.
        engine: defaults to an engine for ``settings.database_url``.
        scorer: defaults to :func:`default_scorer`.
        clock: defaults to :func:`utcnow`.
        topics: defaults to :func:`default_topics`.

    Raises:
        ConfigurationError: the company configuration is invalid.
    """
    settings = settings or get_settings()
    company = company or load_company(settings.company_config)
    engine = engine or make_engine(settings.database_url)
    return Services(
        settings=settings,
        company=company,
        engine=engine,
        sessions=make_sessions(engine),
        scorer=scorer or default_scorer(settings, company),
        clock=clock or utcnow,
        topics=topics or default_topics(settings, company),
    )


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """The process-wide services, built on first call (thread-safe)."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services()
    return _services


def set_services(services: Services | None) -> None:
    """Install ``services`` as the process-wide services (``None`` forgets them)."""
    global _services
    with _lock:
        _services = services


def reset_services() -> None:
    """Forget the process-wide services (the next :func:`get_services` rebuilds them)."""
    set_services(None)
