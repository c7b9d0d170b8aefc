"""The channels this installation offers: one line per channel package.

The web chat (:mod:`bot.channels.web`) is always there; a channel listed here is mounted by
the web app when :meth:`~bot.channels.base.Channel.enabled` says it is configured.
"""

from __future__ import annotations

from bot.channels.base import Channel
from bot.channels.telegram import TELEGRAM

CHANNELS: tuple[Channel, ...] = (TELEGRAM,)
