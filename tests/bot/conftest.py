"""Shared fixtures of the domain tests: configuration, migrated databases, services, fakes.

``engine`` is parametrised: every test using it runs on a temporary SQLite file and, when
the PostgreSQL server on 127.0.0.1:5432 answers, on a throw-away schema there too (those
cases carry the ``postgres`` marker and are skipped cleanly when the server is absent).
Both databases are created by the Alembic migrations, never by ``create_all``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


# ---- a stand-in Rasa on a real local socket (web and channel tests) ----


class StandInRasa:
    """Rasa's REST channel and health endpoints, with a switchable behaviour.

    Attributes:
        mode: ``reply`` (one text + rating buttons), ``empty`` (``[]``), ``error`` (HTTP 500),
            ``garbage`` (200, not JSON) or ``slow`` (answers after ``delay_s``).
        actions_up: whether ``GET /health`` (the action server's) answers 200.
        received: the JSON bodies posted to the webhook, in order.
    """

    def __init__(self) -> None:
        self.mode = "reply"
        self.delay_s = 1.0
        self.actions_up = True
        self.received: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/":
                    self._send(200, b"Hello from Rasa: 3.6.21", "text/plain")
                elif self.path == "/health" and stand_in.actions_up:
                    self._send(200, b'{"status": "ok"}', "application/json")
                elif self.path == "/health":
                    self._send(502, b"", "text/plain")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                stand_in.received.append(body)
                if stand_in.mode == "error":
                    self._send(500, b'{"error": "boom"}', "application/json")
                    return
                if stand_in.mode == "garbage":
                    self._send(200, b"<html>proxy error</html>", "text/html")
                    return
                if stand_in.mode == "slow":
                    time.sleep(stand_in.delay_s)
                messages: list[dict[str, Any]] = []
                if stand_in.mode in ("reply", "slow"):
                    messages = [
                        {
                            "recipient_id": body["sender"],
                            "text": f"stand-in:{body['metadata']['language']}",
                            "buttons": [
                                {"title": str(n), "payload": f'/rate{{"rating": {n}}}'}
                                for n in range(1, 6)
                            ],
                        }
                    ]
                self._send(200, json.dumps(messages).encode(), "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInRasa:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def refused_url() -> str:
    """A local URL where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def stand_in() -> Iterator[StandInRasa]:
    """A stand-in Rasa listening on 127.0.0.1 (random port)."""
    with StandInRasa() as server:
        yield server
