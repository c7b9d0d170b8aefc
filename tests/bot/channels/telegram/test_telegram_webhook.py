"""Tests of bot/channels/telegram/webhook.py (and its mounting by bot/web/app.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.channels.rasa import FakeRasaClient
from bot.channels.telegram.webhook import (
    SECRET_HEADER,
    mount_telegram,
    register_webhooks,
    secret_ok,
)
from bot.domain import Audience
from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.web.app import create_app

RIGHT = "right_secret-123"


@pytest.fixture
def client(api: Any, rasa: FakeRasaClient, make_settings: Callable[..., Settings]) -> Any:
    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="111:CUSTOMER")
    app = FastAPI()
    mounted = mount_telegram(app, settings=settings, rasa=lambda: rasa, request=lambda: api)
    assert mounted == [Audience.CUSTOMER]
    with TestClient(app) as test_client:
        yield test_client


URL = "/telegram/customer/webhook"


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}, {SECRET_HEADER: RIGHT + "x"}],
    ids=["missing", "wrong", "empty", "longer"],
)
def test_forged_webhook_is_refused_and_nothing_processed(
    client: Any,
    api: Any,
    rasa: FakeRasaClient,
    updates: Any,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = client.post(URL, json=updates.make_message_update("forgé", 42), headers=headers)
    assert response.status_code == 403
    assert rasa.sent == []
    assert api.calls == []  # not even initialised: nothing reached the Bot API
    assert "telegram webhook refused" in caplog.text


def test_right_secret_is_processed(
    client: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    response = client.post(
        URL, json=updates.make_message_update("bonjour", 42), headers={SECRET_HEADER: RIGHT}
    )
    assert response.status_code == 200
    assert [text for _, text, _ in rasa.sent] == ["bonjour"]
    assert rasa.sent[0][2]["audience"] == "customer"
    assert api.texts() == ["[fr] bonjour"]


def test_bot_without_token_and_unknown_audience_are_not_found(
    client: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    for audience in ("employee", "admin"):
        response = client.post(
            f"/telegram/{audience}/webhook",
            json=updates.make_message_update("x", 42),
            headers={SECRET_HEADER: RIGHT},
        )
        assert response.status_code == 404
    assert rasa.sent == []


def test_unreadable_update_is_acknowledged_and_ignored(client: Any, rasa: FakeRasaClient) -> None:
    response = client.post(URL, content=b"{not json", headers={SECRET_HEADER: RIGHT})
    assert response.status_code == 200
    assert rasa.sent == []


@pytest.mark.parametrize("configured", ["", "change-me"])
def test_no_configured_secret_refuses_everything(configured: str) -> None:
    assert not secret_ok(configured, configured)
    assert not secret_ok(None, "s3cret")
    assert secret_ok("s3cret", "s3cret")


def test_web_app_mounts_the_webhook_only_for_a_set_token(
    make_settings: Callable[..., Settings],
) -> None:
    def paths(settings: Settings) -> set[str]:
        services: Any = type("S", (), {"settings": settings})()
        app = create_app(services=services, rasa=FakeRasaClient())
        return {getattr(route, "path", "") for route in app.routes}

    assert "/telegram/{audience}/webhook" not in paths(make_settings())
    assert "/telegram/{audience}/webhook" in paths(make_settings(TELEGRAM_EMPLOYEE_TOKEN="2:E"))


async def test_register_webhooks_sets_url_and_secret_for_each_bot(
    api: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        TELEGRAM_CUSTOMER_TOKEN="1:C",
        TELEGRAM_EMPLOYEE_TOKEN="2:E",
        TELEGRAM_PUBLIC_URL="https://vecu.example.org/",
    )
    registered = await register_webhooks(settings, request=api)
    assert registered == {
        Audience.CUSTOMER: "https://vecu.example.org/telegram/customer/webhook",
        Audience.EMPLOYEE: "https://vecu.example.org/telegram/employee/webhook",
    }
    calls = api.sent("setWebhook")
    assert [c["url"] for c in calls] == list(registered.values())
    assert all(c["secret_token"] == RIGHT for c in calls)


@pytest.mark.parametrize(
    "overrides",
    [
        {"TELEGRAM_PUBLIC_URL": ""},
        {"TELEGRAM_PUBLIC_URL": "http://insecure.example.org"},
        {"TELEGRAM_PUBLIC_URL": "https://vecu.example.org", "TELEGRAM_WEBHOOK_SECRET": ""},
    ],
)
async def test_register_webhooks_refuses_without_https_url_or_secret(
    api: Any, make_settings: Callable[..., Settings], overrides: dict[str, str]
) -> None:
    settings = make_settings(TELEGRAM_CUSTOMER_TOKEN="1:C", **overrides)
    with pytest.raises(ConfigurationError):
        await register_webhooks(settings, request=api)
    assert api.sent("setWebhook") == []
