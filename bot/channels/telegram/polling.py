"""Polling mode for development: ``vecu telegram poll`` (no public URL needed).

:func:`poll` runs every bot whose token is set (customer, employee, and the team bot of
the alerts' buttons, ``TELEGRAM_TEAM_TOKEN``) with ``getUpdates`` long polling (which
removes any webhook registered for that bot) until ``stop`` is set or the process is
interrupted. A Bot API that cannot be reached (offline machine, DNS, outage) is retried with
backoff and logged, never allowed to stop the other processes; an invalid token is logged and
that bot skipped. Production uses the webhook served by the web app instead
(:mod:`bot.channels.telegram.webhook`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.channels.telegram.gateway import build_application, build_team_application
from bot.channels.telegram.webhook import configured_tokens
from bot.domain import Audience

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.request import BaseRequest

    from bot.channels.rasa import RasaClient
    from bot.settings import Settings

log = logging.getLogger(__name__)

RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0


async def _start(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    audience: str,
    stop: asyncio.Event,
    first_delay_s: float,
) -> bool:
    """Start polling one bot, retrying while the Bot API cannot be reached.

    Returns:
        ``True`` once polling runs; ``False`` if ``stop`` was set first or the token is invalid.
    """
    delay = first_delay_s
    while not stop.is_set():
        try:
            await application.initialize()
            assert application.updater is not None  # polling=True builds one
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await application.start()
        except InvalidToken:
            log.error(
                "telegram %s bot: the token was refused by Telegram; bot not started", audience
            )
            return False
        except NetworkError as exc:
            log.warning(
                "telegram %s bot: cannot reach the Bot API (%s); retrying in %.0f s",
                audience,
                exc,
                delay,
            )
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        log.info("telegram %s bot: polling", audience)
        return True
    return False


async def poll(
    settings: Settings,
    *,
    rasa: RasaClient,
    stop: asyncio.Event | None = None,
    request: BaseRequest | None = None,
    retry_delay_s: float = RETRY_FIRST_S,
) -> int:
    """Poll Telegram for every configured bot until ``stop`` is set (or SIGINT/SIGTERM).

    Args:
        settings: the settings (tokens, Bot API base URL, rate limit).
        rasa: the Rasa client.
        stop: set it to stop polling (default: a new event set by the signals).
        request: the Bot API transport (tests).
        retry_delay_s: the first wait before retrying an unreachable Bot API (doubles each
            time, up to five minutes).

    Returns:
        The number of bots that were polled (0: no token set, nothing done).
    """
    tokens = configured_tokens(settings)
    team_token = settings.telegram_team_token.strip()
    if not tokens and not team_token:
        return 0
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
    applications: list[Application[Any, Any, Any, Any, Any, Any]] = []
    polled = 0
    try:
        for audience, token in tokens.items():
            application = build_application(
                token=token,
                audience=audience,
                rasa=rasa,
                settings=settings,
                request=request,
                polling=True,
                team_actions=audience == Audience.EMPLOYEE and not team_token,
            )
            applications.append(application)
            started = await _start(
                application, audience=audience, stop=stop, first_delay_s=retry_delay_s
            )
            polled += started
        if team_token:
            team = build_team_application(
                token=team_token, settings=settings, request=request, polling=True
            )
            applications.append(team)
            polled += await _start(team, audience="team", stop=stop, first_delay_s=retry_delay_s)
        await stop.wait()
    finally:
        for application in applications:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            with suppress(Exception):  # never initialised when Telegram was unreachable
                await application.shutdown()
    return polled
