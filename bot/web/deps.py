"""What every route of the web app depends on: errors, the API token, the request's services
and Rasa client, body limits, the API's language. Routers import this module, never
:mod:`bot.web.app` (which mounts them).
"""

from __future__ import annotations

import hmac
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from bot.channels.rasa import HttpRasaClient, RasaClient
from bot.i18n import API_LANGUAGE, t
from bot.services import get_services
from bot.settings import PLACEHOLDER, get_settings

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

SINK_SIZE = 100
"""The development sink keeps the last 100 alerts it received."""


class ApiError(Exception):
    """An API failure with its HTTP status, turned into ``{"error": {code, message}}``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


class Runtime:
    """What routes need, resolved lazily (settings, services, Rasa client, dev sink)."""

    def __init__(self, services: Services | None, rasa: RasaClient | None) -> None:
        self.services = services
        self._rasa = rasa
        self._owns_rasa = rasa is None
        self.sink: deque[dict[str, Any]] = deque(maxlen=SINK_SIZE)

    def settings(self) -> Settings:
        if self.services is not None:
            return self.services.settings

        return get_settings()

    def rasa(self) -> RasaClient:
        if self._rasa is None:
            settings = self.settings()
            self._rasa = HttpRasaClient(
                settings.rasa_url, settings.actions_url, timeout_s=settings.rasa_timeout_s
            )
        return self._rasa

    async def aclose(self) -> None:
        if self._owns_rasa and self._rasa is not None:
            await self._rasa.aclose()
            self._rasa = None


def app_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def has_token(request: Request) -> bool:
    """Whether the request carries ``Authorization: Bearer <VECU_API_TOKEN>`` (constant-time;
    an empty or placeholder configured token accepts nobody)."""
    configured = app_runtime(request).settings().api_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    usable = bool(configured) and configured != PLACEHOLDER
    return (
        scheme.lower() == "bearer"
        and usable
        and hmac.compare_digest(given.strip().encode(), configured.encode())
    )


def require_token(request: Request) -> None:
    """Dependency: the request carries ``Authorization: Bearer <VECU_API_TOKEN>``.

    The comparison is constant-time. An empty or placeholder (``change-me``) configured
    token accepts nobody: the API stays closed until ``VECU_API_TOKEN`` is set.

    Raises:
        ApiError: 401 with ``WWW-Authenticate: Bearer``.
    """
    if not has_token(request):
        configured = app_runtime(request).settings().api_token
        if not configured or configured == PLACEHOLDER:
            log.warning("VECU_API_TOKEN is not set: the JSON API refuses every request")
        raise ApiError(
            401,
            "unauthorized",
            t("web.api.unauthorized", API_LANGUAGE),
            headers={"WWW-Authenticate": 'Bearer realm="vecu"'},
        )


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def app_services(app: FastAPI) -> Services:
    """The services given to ``app`` (:func:`bot.web.app.create_app`), else the process-wide
    ones: the one place the web layer finds them."""
    services: Services | None = app.state.runtime.services
    return services if services is not None else get_services()


def services_of(request: Request) -> Services:
    """The services of the app serving ``request`` (:func:`app_services`)."""
    return app_services(request.app)


def is_json(request: Request) -> bool:
    """Whether the request says its body is JSON (``application/json``, any parameters)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json"


MAX_ID = 2**63 - 1
"""The largest id a database row can have (a signed 64-bit integer)."""


def known_id(value: int) -> int:
    """``value`` when it can be a row id; an id out of that range names nothing: 404.

    Raises:
        ApiError: 404 for an id below 1 or above :data:`MAX_ID`.
    """
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "not_found", t("web.api.not_found", API_LANGUAGE))
    return value


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route really answers, each with the
    ``{"error": {"code", "message"}}`` body every JSON error has."""
    return {status: {"description": ERROR_DESCRIPTIONS[status], "content": ERROR_BODY}
            for status in statuses}  # fmt: skip


ERROR_BODY: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["code", "message"],
                }
            },
            "required": ["error"],
        }
    }
}
ERROR_DESCRIPTIONS = {
    400: "Invalid request: not JSON, nested too deep, a field out of range.",
    401: "Missing or wrong credentials (the API token, or the signature of the raw body).",
    403: "Not allowed for this caller.",
    404: "No such resource (an id out of range included).",
    409: "The resource is not in a state that allows it.",
    413: "The body is too large.",
    415: "The body must be application/json.",
    422: "A readable request that breaks the rules (each problem named).",
    429: "Too many requests: wait and try again.",
    503: "A dependency (the database) does not answer.",
}
