"""Telegram's webhook mode, served by the web app: ``POST /telegram/{audience}/webhook``.

:func:`mount_telegram` adds the route to a FastAPI app for the bots whose token is set.
Every call must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to
``TELEGRAM_WEBHOOK_SECRET`` (compared in constant time; Telegram sends it when the webhook
was registered with ``secret_token``, 1-256 characters among ``A-Z a-z 0-9 _ -``). A missing
or wrong secret, or no secret configured at all, gets 403, is logged, and nothing is
processed. A valid call is answered 200 once the update is handled (a bad update is logged
and still answered 200, so Telegram does not retry it forever).

:func:`register_webhooks` (``vecu telegram webhook``) tells Telegram where to post each
bot's updates: ``TELEGRAM_PUBLIC_URL`` + the route above, with the secret.

Each bot's :class:`~telegram.ext.Application` is built and initialised on its first update
(initialising calls the Bot API's ``getMe`` once), so starting the web app contacts nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from telegram import Bot, Update

from bot.channels.telegram.gateway import build_application, build_team_application
from bot.domain import Audience
from bot.errors import ConfigurationError
from bot.settings import PLACEHOLDER

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.request import BaseRequest

    from bot.channels.rasa import RasaClient
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/{audience}/webhook"
TEAM = "team"
"""The path segment of the team bot (``TELEGRAM_TEAM_TOKEN``): ``/telegram/team/webhook``."""


def configured_tokens(settings: Settings) -> dict[Audience, str]:
    """The bots whose token is set, by audience."""
    tokens = {
        Audience.CUSTOMER: settings.telegram_customer_token.strip(),
        Audience.EMPLOYEE: settings.telegram_employee_token.strip(),
    }
    return {audience: token for audience, token in tokens.items() if token}


def secret_ok(given: str | None, configured: str) -> bool:
    """Whether ``given`` is the configured webhook secret (constant time; unset → never)."""
    if not configured or configured == PLACEHOLDER or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), configured.encode("utf-8"))


class _Bots:
    """The applications of the mounted bots, built and initialised on first use."""

    def __init__(
        self,
        tokens: dict[str, str],
        build: Callable[[str, str], Application[Any, Any, Any, Any, Any, Any]],
    ) -> None:
        self.tokens = tokens
        self._build = build
        self._apps: dict[str, Application[Any, Any, Any, Any, Any, Any]] = {}
        self._lock = asyncio.Lock()

    async def get(self, audience: str) -> Application[Any, Any, Any, Any, Any, Any]:
        async with self._lock:
            application = self._apps.get(audience)
            if application is None:
                application = self._build(audience, self.tokens[audience])
                await application.initialize()
                self._apps[audience] = application
            return application

    async def aclose(self) -> None:
        for application in self._apps.values():
            await application.shutdown()
        self._apps.clear()


def mount_telegram(
    app: FastAPI,
    *,
    settings: Settings,
    rasa: Callable[[], RasaClient],
    services: Services | None = None,
    request: Callable[[], BaseRequest] | None = None,
) -> list[str]:
    """Add ``POST /telegram/{audience}/webhook`` to ``app`` for the bots whose token is set.

    ``audience`` is ``customer``, ``employee`` or ``team`` (the team bot of the alert
    buttons, :mod:`bot.channels.telegram.team`; without ``TELEGRAM_TEAM_TOKEN`` the employee
    bot carries those buttons).

    Args:
        app: the web application.
        settings: the settings (tokens, secret, Bot API base URL, rate limit).
        rasa: returns the Rasa client (the web app's, resolved on first use).
        services: the services of the fallback recorder (``None``: process-wide).
        request: builds the Bot API transport of each bot (tests: an offline fake).

    Returns:
        The audiences mounted (empty: no token set, no route added).
    """
    tokens = configured_tokens(settings)
    team_token = settings.telegram_team_token.strip()
    if not tokens and not team_token:
        return []

    def build(audience: str, token: str) -> Application[Any, Any, Any, Any, Any, Any]:
        if audience == TEAM:
            return build_team_application(
                token=token,
                settings=settings,
                services=services,
                request=request() if request is not None else None,
            )
        return build_application(
            token=token,
            audience=Audience(audience),
            rasa=rasa(),
            settings=settings,
            services=services,
            request=request() if request is not None else None,
            team_actions=audience == Audience.EMPLOYEE and not team_token,
        )

    bots = _Bots(
        {
            **{str(a): tok for a, tok in tokens.items()},
            **({TEAM: team_token} if team_token else {}),
        },
        build,
    )
    app.state.telegram = bots

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(audience: str, request: Request) -> JSONResponse:
        if not secret_ok(request.headers.get(SECRET_HEADER), settings.telegram_webhook_secret):
            client = request.client.host if request.client else "?"
            log.warning("telegram webhook refused (missing or wrong secret) from %s", client)
            return JSONResponse({"ok": False}, status_code=403)
        if audience not in bots.tokens:
            return JSONResponse({"ok": False}, status_code=404)
        application = await bots.get(audience)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, application.bot)
        except Exception:
            log.warning("telegram webhook: unreadable update ignored", exc_info=True)
            return JSONResponse({"ok": True})
        await application.process_update(update)
        return JSONResponse({"ok": True})

    return list(bots.tokens)


def webhook_url(settings: Settings, audience: str) -> str:
    """The public URL Telegram posts ``audience``'s updates to (customer, employee, team)."""
    base = settings.telegram_public_url.strip().rstrip("/")
    return base + WEBHOOK_PATH.format(audience=str(audience))


async def register_webhooks(
    settings: Settings, *, request: BaseRequest | None = None
) -> dict[str, str]:
    """Register the webhook of every configured bot (``setWebhook`` with the secret).

    Args:
        settings: the settings (tokens, ``TELEGRAM_PUBLIC_URL``, ``TELEGRAM_WEBHOOK_SECRET``).
        request: the Bot API transport (tests).

    Returns:
        The URL registered for each bot.

    Raises:
        ConfigurationError: no public URL or no usable secret.
    """
    secret = settings.telegram_webhook_secret
    if not settings.telegram_public_url.strip().startswith("https://"):
        raise ConfigurationError("TELEGRAM_PUBLIC_URL must be set to an https:// URL")
    if not secret or secret == PLACEHOLDER:
        raise ConfigurationError("TELEGRAM_WEBHOOK_SECRET must be set")
    registered: dict[str, str] = {}
    bots: dict[str, str] = {str(a): tok for a, tok in configured_tokens(settings).items()}
    if settings.telegram_team_token.strip():
        bots[TEAM] = settings.telegram_team_token.strip()
    for audience, token in bots.items():
        url = webhook_url(settings, audience)
        bot = Bot(token, base_url=settings.telegram_api_base_url, request=request)
        async with bot:
            await bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        registered[audience] = url
    return registered
