"""Resolve ``(team, destination name)`` to a destination built from the company configuration.

Webhook and e-mail destinations are Vécu's own; a channel adds its team destinations by
registering a factory (:func:`bot.alerts.destinations.register_destination`: Telegram's in
:mod:`bot.channels.telegram.alerts`). The reserved destination ``person`` is the closed loop
(:class:`bot.alerts.closing.PersonDestination`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from bot.alerts.closing import PersonDestination
from bot.alerts.destinations import Destination, WebhookDestination, destination_factory
from bot.alerts.email import EmailDestination
from bot.company import Company
from bot.company import Destination as DestinationConfig
from bot.contact.outbound import (
    InboxSender,
    RasaIntentTrigger,
    RoutingSender,
    TelegramSender,
)
from bot.contact.routes import store_inbox
from bot.domain import PERSON_DESTINATION
from bot.errors import DeliveryError
from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.services import Services


class ConfigDestinations:
    """Resolves ``(team, destination name)`` to a destination built from the company config.

    Webhook and Telegram destinations share one HTTP client (and the injected
    ``transport``). With ``services``, Telegram team destinations use the team bot
    (``TELEGRAM_TEAM_TOKEN``, else ``TELEGRAM_EMPLOYEE_TOKEN``) and the reserved destination
    ``person`` (the closed loop, :mod:`bot.alerts.closing`) resolves to a
    :class:`~bot.alerts.closing.PersonDestination` talking to Rasa and the person's channel.
    """

    def __init__(
        self,
        company: Company,
        *,
        transport: httpx.BaseTransport | None = None,
        services: Services | None = None,
    ) -> None:
        self.company = company
        self.services = services
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self._cache: dict[tuple[str, str], Destination] = {}
        self._person: Destination | None = None

    def build(self, config: DestinationConfig) -> Destination:
        """A destination for one configured entry.

        Raises:
            DeliveryError: no channel registered the entry's type (retried later; the edges
                that deliver alerts import :mod:`bot.channels`, which registers them).
        """
        settings = self.services.settings if self.services else None
        if config.type == "email":
            return EmailDestination(list(config.to), settings=settings or get_settings())
        if config.type == "webhook":
            assert config.url is not None  # validated by the company configuration
            return WebhookDestination(
                config.url,
                format=config.format,
                headers=config.headers,
                timeout_s=config.timeout_s,
                client=self._client,
            )
        factory = destination_factory(config.type)
        if factory is None:
            raise DeliveryError(f"no channel provides {config.type!r} destinations")
        return factory(config, settings=settings, client=self._client)

    def person(self) -> Destination | None:
        """The closed loop's destination (``None`` without services)."""
        if self._person is None and self.services is not None:
            services = self.services
            settings = services.settings
            sender = RoutingSender(
                {
                    "telegram": TelegramSender(
                        {
                            "customer": settings.telegram_customer_token,
                            "employee": settings.telegram_employee_token,
                        },
                        base_url=settings.telegram_api_base_url,
                        client=self._client,
                    ),
                    "web": InboxSender(
                        lambda route, messages: store_inbox(route, messages, services=services)
                    ),
                }
            )
            trigger = RasaIntentTrigger(
                settings.rasa_url,
                settings.rasa_token,
                timeout_s=settings.rasa_timeout_s,
                client=self._client,
            )
            self._person = PersonDestination(services=services, trigger=trigger, sender=sender)
        return self._person

    def __call__(self, team: str, name: str) -> Destination | None:
        """The destination ``name`` of ``team``, or ``None`` if it is no longer configured."""
        if name == PERSON_DESTINATION:
            return self.person()
        key = (team, name)
        if key not in self._cache:
            team_conf = self.company.team(team)
            config = team_conf.destination(name) if team_conf else None
            if config is None:
                return None
            self._cache[key] = self.build(config)
        return self._cache[key]

    def close(self) -> None:
        """Close the shared HTTP client."""
        self._client.close()
