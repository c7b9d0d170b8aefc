"""Fixtures of the Telegram tests: an offline Bot API, update factories, settings, fakes.

:class:`FakeBotApi` is a ``telegram.request.BaseRequest`` (modelled on python-telegram-bot's
``tests/auxil/networking.py`` ``OfflineRequest``): the *real* python-telegram-bot builds and
sends every Bot API call through it; it records ``(method, parameters)`` and answers canned
JSON. :class:`Updates` builds update payloads in the style of python-telegram-bot's
``tests/auxil/build_messages.py``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.request import BaseRequest, RequestData

from bot.channels.rasa import FakeRasaClient
from bot.settings import Settings

BOT_ID = 777
DATE = 1_763_900_000


class FakeBotApi(BaseRequest):
    """An offline Bot API that records every call (method name, decoded parameters).

    Attributes:
        calls: ``(method, parameters)`` in order.
        on_call: optional hook called with ``(method, parameters)`` (e.g. to stop polling).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.on_call: Callable[[str, dict[str, Any]], None] | None = None
        self._message_ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def sent(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method``."""
        return [params for name, params in self.calls if name == method]

    def texts(self) -> list[str]:
        """The texts of every ``sendMessage``."""
        return [str(params["text"]) for params in self.sent("sendMessage")]

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Vécu",
                "username": "vecu_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "sendMessage":
            return {
                "message_id": next(self._message_ids),
                "date": DATE,
                "chat": {"id": params["chat_id"], "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Vécu"},
                "text": params["text"],
            }
        if method == "getUpdates":
            return []
        return True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        self.calls.append((name, params))
        if self.on_call is not None:
            self.on_call(name, params)
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()


class Updates:
    """Update payloads (JSON dicts, as Telegram posts them) with increasing ``update_id``s."""

    def __init__(self) -> None:
        self._ids = itertools.count(10_000)

    def _next(self, update_id: int | None) -> int:
        return update_id if update_id is not None else next(self._ids)

    @staticmethod
    def user(user_id: int, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Alex"}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    @staticmethod
    def chat(user_id: int, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": user_id, "type": "private", "first_name": "Alex"}
        return {"id": -100_000 - user_id, "type": chat_type, "title": "Some group"}

    def message(
        self,
        user_id: int = 42,
        language_code: str | None = "fr",
        chat_type: str = "private",
        message_id: int = 1,
        **content: Any,
    ) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": DATE,
            "chat": self.chat(user_id, chat_type),
            "from": self.user(user_id, language_code),
            **content,
        }

    def make_message_update(
        self,
        text: str,
        user_id: int = 42,
        language_code: str | None = "fr",
        chat_type: str = "private",
        update_id: int | None = None,
        edited: bool = False,
    ) -> dict[str, Any]:
        """A text message (or an edited one) update."""
        message = self.message(user_id, language_code, chat_type, text=text)
        if edited:
            message["edit_date"] = DATE + 60
        key = "edited_message" if edited else "message"
        return {"update_id": self._next(update_id), key: message}

    def make_photo_update(
        self, user_id: int = 42, language_code: str | None = "fr", update_id: int | None = None
    ) -> dict[str, Any]:
        """A photo without caption."""
        photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 90, "height": 90}]
        message = self.message(user_id, language_code, photo=photo)
        return {"update_id": self._next(update_id), "message": message}

    def make_sticker_update(
        self, user_id: int = 42, language_code: str | None = "en", update_id: int | None = None
    ) -> dict[str, Any]:
        """A sticker."""
        sticker = {
            "file_id": "s1",
            "file_unique_id": "su1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        message = self.message(user_id, language_code, sticker=sticker)
        return {"update_id": self._next(update_id), "message": message}

    def make_callback_update(
        self,
        data: str,
        user_id: int = 42,
        language_code: str | None = "fr",
        message_id: int = 1000,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """A press on an inline button of the bot's message ``message_id``."""
        message = {
            "message_id": message_id,
            "date": DATE,
            "chat": self.chat(user_id, "private"),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Vécu"},
            "text": "Comment s'est passée votre expérience ?",
        }
        query = {
            "id": f"cb{message_id}",
            "from": self.user(user_id, language_code),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return {"update_id": self._next(update_id), "callback_query": query}


class Recorder:
    """A fake :func:`bot.feedback.intake.record` that keeps the messages it is given."""

    def __init__(self, fail: bool = False) -> None:
        self.messages: list[Any] = []
        self.fail = fail

    def __call__(self, message: Any, *, services: Any = None) -> Any:
        if self.fail:
            raise RuntimeError("database down")
        self.messages.append(message)
        return SimpleNamespace(feedback_id=len(self.messages))


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def telegram_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "VECU_ENV": "test",
        "VECU_SECRET_KEY": "test-secret-key-for-pseudonyms-0123456789",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "TELEGRAM_WEBHOOK_SECRET": "right_secret-123",
        "TELEGRAM_RATE_PER_MINUTE": 20,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def process_services(tmp_path: Any) -> Any:
    """Process-wide services on a temp migrated SQLite file (the gateway's contact routes).

    The gateway writes contact routes through :func:`bot.services.get_services` when it is
    given no services: this keeps every Telegram test away from ``var/vecu.db``.
    """
    from bot.scoring.base import StaticScorer
    from bot.services import build_services, reset_services, set_services
    from bot.storage.migrate import upgrade

    settings = telegram_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'process.db'}")
    scorer = StaticScorer({"negative": 0.1, "neutral": 0.8, "positive": 0.1}, {"neutral": 1.0})
    services = build_services(settings, scorer=scorer)
    upgrade(services.engine)
    set_services(services)
    yield services
    reset_services()
    services.dispose()


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
def updates() -> Updates:
    return Updates()


@pytest.fixture
def rasa() -> FakeRasaClient:
    return FakeRasaClient()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Settings:
    return telegram_settings()


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    return telegram_settings
