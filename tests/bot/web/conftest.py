"""Fixtures of the web tests: a stand-in Rasa on a real local socket, settings, fakes."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


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
