"""Tests of bot/channels/installed.py and the channel seam (bot/channels/base.py)."""

from __future__ import annotations

from fastapi import FastAPI

from bot.channels.installed import CHANNELS
from bot.channels.rasa import FakeRasaClient
from bot.channels.telegram import TELEGRAM
from bot.settings import Settings


def settings(**values: str) -> Settings:
    tokens = {
        "TELEGRAM_CUSTOMER_TOKEN": "",
        "TELEGRAM_EMPLOYEE_TOKEN": "",
        "TELEGRAM_TEAM_TOKEN": "",
    }
    return Settings(_env_file=None, VECU_ENV="test", **{**tokens, **values})  # type: ignore[arg-type]


def test_telegram_is_installed_and_enabled_only_by_a_token() -> None:
    assert TELEGRAM in CHANNELS
    assert {channel.name for channel in CHANNELS} == {"telegram"}
    assert not TELEGRAM.enabled(settings())
    assert TELEGRAM.enabled(settings(TELEGRAM_TEAM_TOKEN="1:abc"))
    assert TELEGRAM.enabled(settings(TELEGRAM_CUSTOMER_TOKEN="1:abc"))


def test_an_enabled_channel_mounts_its_webhooks() -> None:
    app = FastAPI()
    rasa = FakeRasaClient()
    TELEGRAM.mount(
        app, settings=settings(TELEGRAM_CUSTOMER_TOKEN="1:abc"), rasa=lambda: rasa, services=None
    )
    paths = {getattr(route, "path", "") for route in app.routes}
    assert "/telegram/{audience}/webhook" in paths
