"""Tests of bot/channels/telegram/polling.py and of ``vecu telegram poll``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.channels.rasa import FakeRasaClient
from bot.channels.telegram.polling import poll
from bot.cli.main import main
from bot.settings import Settings, get_settings


async def test_poll_runs_every_configured_bot_until_stopped(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="1:C", TELEGRAM_EMPLOYEE_TOKEN="2:E")
    stop = asyncio.Event()

    def on_call(method: str, params: dict[str, Any]) -> None:
        if method == "getUpdates":
            stop.set()

    api.on_call = on_call
    count = await asyncio.wait_for(
        poll(settings, rasa=FakeRasaClient(), stop=stop, request=api), timeout=30
    )
    assert count == 2
    methods = [name for name, _ in api.calls]
    assert methods.count("getMe") == 2
    assert "deleteWebhook" in methods  # polling replaces any registered webhook
    assert "getUpdates" in methods


async def test_poll_without_token_does_nothing(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    assert await poll(make_settings(), rasa=FakeRasaClient(), request=api) == 0
    assert api.calls == []


def test_cli_poll_without_token_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEGRAM_CUSTOMER_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_EMPLOYEE_TOKEN", raising=False)
    monkeypatch.setenv("VECU_CLI_LANGUAGE", "en")
    get_settings.cache_clear()
    try:
        assert main(["telegram", "poll"]) == 2
    finally:
        get_settings.cache_clear()
    assert "TELEGRAM_CUSTOMER_TOKEN" in capsys.readouterr().err


async def test_poll_retries_an_unreachable_bot_api_instead_of_crashing(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    from telegram.error import NetworkError

    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="1:C")
    stop = asyncio.Event()
    failures = []

    def on_call(method: str, params: dict[str, Any]) -> None:
        if method == "getMe" and len(failures) < 2:
            failures.append(method)
            raise NetworkError("Name or service not known")
        if method == "getUpdates":
            stop.set()

    api.on_call = on_call
    count = await asyncio.wait_for(
        poll(settings, rasa=FakeRasaClient(), stop=stop, request=api, retry_delay_s=0.01),
        timeout=30,
    )
    assert failures == ["getMe", "getMe"]
    assert count == 1
    assert [name for name, _ in api.calls].count("getMe") == 3


async def test_poll_skips_a_bot_whose_token_telegram_refuses(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    from telegram.error import InvalidToken

    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="1:C")
    stop = asyncio.Event()

    def on_call(method: str, params: dict[str, Any]) -> None:
        raise InvalidToken("Unauthorized")

    api.on_call = on_call
    task = asyncio.create_task(poll(settings, rasa=FakeRasaClient(), stop=stop, request=api))
    await asyncio.sleep(0.2)
    assert not task.done()  # the process stays up: the other processes keep running
    stop.set()
    assert await asyncio.wait_for(task, timeout=10) == 0


async def test_poll_also_runs_the_team_bot(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="1:C", TELEGRAM_TEAM_TOKEN="3:T")
    stop = asyncio.Event()

    def on_call(method: str, params: dict[str, Any]) -> None:
        if method == "getUpdates" and [name for name, _ in api.calls].count("getMe") == 2:
            stop.set()

    api.on_call = on_call
    count = await asyncio.wait_for(
        poll(settings, rasa=FakeRasaClient(), stop=stop, request=api), timeout=30
    )
    assert count == 2  # the customer bot and the team bot
    assert [name for name, _ in api.calls].count("getMe") == 2
