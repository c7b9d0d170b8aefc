"""The Telegram gateway (python-telegram-bot 22): webhook or polling, onto Rasa.

- :mod:`~bot.channels.telegram.gateway`: the application and its handlers.
- :mod:`~bot.channels.telegram.webhook`: ``POST /telegram/{audience}/webhook`` in the web app.
- :mod:`~bot.channels.telegram.polling`: ``vecu telegram poll`` for development.
- :mod:`~bot.channels.telegram.text`: splitting long replies.

- :mod:`~bot.channels.telegram.team`: the team bot, workflow buttons of team alerts.
"""

from bot.channels.telegram.gateway import CHANNEL, TelegramGateway, build_application
from bot.channels.telegram.text import split_message
from bot.channels.telegram.webhook import mount_telegram

__all__ = ["CHANNEL", "TelegramGateway", "build_application", "mount_telegram", "split_message"]
