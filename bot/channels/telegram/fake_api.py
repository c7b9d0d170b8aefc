"""An offline Telegram Bot API on a local socket, for end-to-end tests and benchmarks.

:class:`FakeBotApiServer` answers ``POST /bot<token>/<method>`` like Telegram's Bot API
(JSON, form-urlencoded or query parameters; python-telegram-bot sends form fields whose
complex values are JSON) and records every call as a :class:`BotApiCall`. Point
``TELEGRAM_API_BASE_URL`` at :attr:`FakeBotApiServer.base_url` and every Vécu process (web
app, worker, ``vecu telegram poll``) talks to it instead of Telegram. ``getUpdates`` answers
nothing (use the webhook routes to feed updates); ``delay_s`` slows every answer (to
measure with a realistic Bot API latency).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER_ID = 777
DATE = 1_763_900_000


@dataclass(frozen=True)
class BotApiCall:
    """One Bot API call: which bot (token), which method, the decoded parameters."""

    token: str
    method: str
    params: dict[str, Any]
    at: float


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotApiServer:
    """The fake Bot API (start with :meth:`start`, stop with :meth:`stop`).

    Attributes:
        calls: every call received, in order (thread-safe appends).
        delay_s: seconds to wait before answering each call.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, delay_s: float = 0.0) -> None:
        self.calls: list[BotApiCall] = []
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params: dict[str, Any] = {k: _decode(v) for k, v in parse_qsl(parts.query)}
                kind = self.headers.get("Content-Type", "")
                if raw and kind.startswith("application/json"):
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: _decode(v) for k, v in parse_qsl(raw.decode())})
                token, _, method = parts.path.removeprefix("/bot").partition("/")
                body = json.dumps(outer.answer(token, method, params)).encode()
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The value for ``TELEGRAM_API_BASE_URL`` (the token is appended to it)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def start(self) -> FakeBotApiServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def answer(self, token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Record the call and build Telegram's answer."""
        with self._lock:
            self.calls.append(BotApiCall(token, method, params, time.monotonic()))
        if method == "getMe":
            result: Any = {
                "id": BOT_USER_ID,
                "is_bot": True,
                "first_name": "Vécu",
                "username": "vecu_fake_bot",
            }
        elif method == "sendMessage":
            chat_id = params.get("chat_id")
            numeric = int(str(chat_id)) if str(chat_id).lstrip("-").isdigit() else 0
            result = {
                "message_id": next(self._ids),
                "date": DATE,
                "chat": {"id": numeric, "type": "private" if numeric > 0 else "supergroup"},
                "from": {"id": BOT_USER_ID, "is_bot": True, "first_name": "Vécu"},
                "text": params.get("text", ""),
            }
        elif method == "getUpdates":
            result = []
        else:
            result = True
        return {"ok": True, "result": result}

    def sent(self, method: str = "sendMessage", *, token: str | None = None) -> list[BotApiCall]:
        """The calls of ``method`` (by the bot ``token`` if given)."""
        with self._lock:
            return [
                c for c in self.calls if c.method == method and (token is None or c.token == token)
            ]
