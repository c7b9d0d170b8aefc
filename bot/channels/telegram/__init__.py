"""The Telegram gateway (python-telegram-bot 22): webhook or polling, onto Rasa.

- :mod:`~bot.channels.telegram.gateway`: the application and its handlers (inbound and
  outbound).
- :mod:`~bot.channels.telegram.webhook`: ``POST /telegram/{audience}/webhook`` in the web app.
- :mod:`~bot.channels.telegram.polling`: ``vecu telegram poll`` for development.
- :mod:`~bot.channels.telegram.text`: splitting long replies.
- :mod:`~bot.channels.telegram.alerts`: team alerts as Telegram messages with buttons (the
  ``telegram`` destination type, registered on import).
- :mod:`~bot.channels.telegram.team`: the team bot, workflow buttons of team alerts.
- :mod:`~bot.channels.telegram.fake_api`: the in-tree fake Bot API the tests drive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.channels.telegram import alerts as alerts  # registers the ``telegram`` destination
from bot.channels.telegram.gateway import CHANNEL, TelegramGateway, build_application
from bot.channels.telegram.text import split_message
from bot.channels.telegram.webhook import mount_telegram

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.channels.rasa import RasaClient
    from bot.services import Services
    from bot.settings import Settings


class TelegramChannel:
    """Telegram as a :class:`~bot.channels.base.Channel`."""

    name = CHANNEL

    def enabled(self, settings: Settings) -> bool:
        """A customer, employee or team bot token is set."""
        return bool(
            settings.telegram_customer_token
            or settings.telegram_employee_token
            or settings.telegram_team_token
        )

    def mount(
        self,
        app: FastAPI,
        *,
        settings: Settings,
        rasa: Callable[[], RasaClient],
        services: Services | None,
    ) -> None:
        """``POST /telegram/{audience}/webhook`` for each bot whose token is set."""
        mount_telegram(app, settings=settings, rasa=rasa, services=services)


TELEGRAM = TelegramChannel()

__all__ = [
    "CHANNEL",
    "TELEGRAM",
    "TelegramChannel",
    "TelegramGateway",
    "build_application",
    "mount_telegram",
    "split_message",
]
