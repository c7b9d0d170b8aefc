"""The seam every messaging channel plugs into.

A channel is a package under ``bot/channels/`` that:

- **inbound**: turns the platform's update into a pseudonymous sender (a keyed hash,
  :func:`bot.privacy.pseudonyms.pseudonym`) and Rasa's metadata (language, audience, channel,
  message id), sends the words to Rasa (:mod:`bot.channels.rasa`) and, when Rasa cannot
  answer, records them directly (:func:`bot.channels.inbound.record_directly`);
- **outbound**: sends Rasa's messages back within the platform's limits (buttons, lengths,
  windows, retries);
- **team surface** (optional): delivers an alert to a team with its actions, by registering a
  destination type (:func:`bot.alerts.destinations.register_destination`).

It describes itself with a :class:`Channel` and is listed once in
:mod:`bot.channels.installed`; the web app mounts what it receives (:meth:`Channel.mount`)
and nothing below this layer changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.channels.rasa import RasaClient
    from bot.services import Services
    from bot.settings import Settings


class Channel(Protocol):
    """A messaging channel as the edges (web app, command line) see it."""

    name: str
    """The channel's name in Rasa's metadata and in stored feedback (``telegram``)."""

    def enabled(self, settings: Settings) -> bool:
        """Whether this installation configured the channel (its tokens are set)."""
        ...

    def mount(
        self,
        app: FastAPI,
        *,
        settings: Settings,
        rasa: Callable[[], RasaClient],
        services: Services | None,
    ) -> None:
        """Add the channel's inbound routes (webhooks) to the web app."""
        ...
