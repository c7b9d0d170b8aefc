"""Tests of bot/alerts/resolve.py: destinations built from the company configuration, and the
registry through which a channel adds its own destination type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.alerts import destinations
from bot.alerts.destinations import Alert, WebhookDestination, register_destination
from bot.alerts.email import EmailDestination
from bot.alerts.resolve import ConfigDestinations
from bot.company import Destination as DestinationConfig
from bot.company import load_company
from bot.errors import DeliveryError
from bot.settings import ROOT


class Recorded:
    def __init__(self, config: DestinationConfig) -> None:
        self.config = config
        self.delivered: list[Alert] = []

    def deliver(self, alert: Alert) -> None:
        self.delivered.append(alert)


@pytest.fixture
def resolver() -> Any:
    company = load_company(ROOT / "company.yml")
    built = ConfigDestinations(
        company, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    yield built
    built.close()


def test_webhook_and_email_are_vecus_own(resolver: ConfigDestinations) -> None:
    webhook = DestinationConfig(name="hook", type="webhook", url="https://example.org/hook")
    email = DestinationConfig(name="mail", type="email", to=["ops@example.org"])
    assert isinstance(resolver.build(webhook), WebhookDestination)
    assert isinstance(resolver.build(email), EmailDestination)


def test_a_type_no_channel_registered_is_retried_not_lost(
    resolver: ConfigDestinations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(destinations, "_FACTORIES", {})
    config = DestinationConfig(name="chat", type="telegram", chat_id="-100")
    with pytest.raises(DeliveryError, match="no channel provides 'telegram'"):
        resolver.build(config)


def test_a_registered_channel_builds_its_destinations(
    resolver: ConfigDestinations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(destinations, "_FACTORIES", {})
    seen: dict[str, Any] = {}

    def factory(config: DestinationConfig, *, settings: Any, client: httpx.Client) -> Recorded:
        seen.update(settings=settings, client=client)
        return Recorded(config)

    register_destination("telegram", factory)
    config = DestinationConfig(name="chat", type="telegram", chat_id="-100")
    built = resolver.build(config)
    assert isinstance(built, Recorded) and built.config is config
    assert seen["client"] is resolver._client and seen["settings"] is None


def test_the_telegram_channel_registers_its_team_destination() -> None:
    from bot.channels.telegram.alerts import TelegramTeamDestination

    factory = destinations.destination_factory("telegram")
    assert factory is not None
    config = DestinationConfig(name="chat", type="telegram", chat_id="-100")
    with httpx.Client() as client:
        assert isinstance(factory(config, settings=None, client=client), TelegramTeamDestination)
