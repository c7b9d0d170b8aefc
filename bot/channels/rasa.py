"""The web gateway's boundary with Rasa: its REST channel and the health of Rasa and actions.

:class:`RasaClient` is the interface the web app depends on; :class:`HttpRasaClient` talks
to a real Rasa server over HTTP (``POST {RASA_URL}/webhooks/rest/webhook``,
``GET {RASA_URL}/``, ``GET {ACTIONS_URL}/health``) and :class:`FakeRasaClient` is the
in-tree fake for tests and demos (scripted replies, or "down" on demand).

Every transport failure (connection refused, timeout, 5xx, a body that is not a JSON list)
becomes :class:`bot.errors.UpstreamError`, so the caller has exactly one failure to handle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from bot.errors import BusyError, UpstreamError

log = logging.getLogger(__name__)

UP, BUSY, DOWN = "up", "busy", "down"
"""The states of a process behind the web app (:meth:`RasaClient.actions_state`)."""

RasaMessage = dict[str, Any]
"""One message of Rasa's REST channel answer (``text``, ``buttons``, ``custom``…)."""

HEALTH_TIMEOUT_S = 2.0
"""Timeout of each health probe (``/healthz`` must answer fast)."""


@runtime_checkable
class RasaClient(Protocol):
    """What the web app needs from Rasa."""

    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any]
    ) -> list[RasaMessage]:
        """Send one user message through the REST channel and return Rasa's messages.

        Raises:
            UpstreamError: Rasa is unreachable, timed out, failed (5xx) or answered garbage.
        """
        ...

    async def rasa_ok(self) -> bool:
        """Whether the Rasa server answers its root endpoint."""
        ...

    async def actions_ok(self) -> bool:
        """Whether the action server answers its health endpoint."""
        ...

    async def actions_state(self) -> str:
        """``up``, ``busy`` (there, but its health endpoint did not answer in time) or
        ``down`` (refused, or an error)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class HttpRasaClient:
    """A :class:`RasaClient` over HTTP (one pooled ``httpx.AsyncClient``, built lazily).

    Args:
        rasa_url: Rasa's base URL, e.g. ``http://127.0.0.1:5005``.
        actions_url: the action server's base URL, e.g. ``http://127.0.0.1:5055``.
        timeout_s: timeout of a chat message (Rasa may run a slow action).
        transport: an ``httpx`` transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        rasa_url: str,
        actions_url: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.actions_url = actions_url.rstrip("/")
        self.timeout_s = timeout_s
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s, connect=min(5.0, self.timeout_s)),
                transport=self._transport,
            )
        return self._client

    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any]
    ) -> list[RasaMessage]:
        """See :meth:`RasaClient.send`."""
        url = f"{self.rasa_url}/webhooks/rest/webhook"
        payload = {"sender": sender, "message": message, "metadata": dict(metadata)}
        try:
            response = await self._http().post(url, json=payload)
        except httpx.TimeoutException as exc:
            raise BusyError(
                f"Rasa at {self.rasa_url} did not answer in time: {type(exc).__name__}"
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Rasa unreachable at {self.rasa_url}: {type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            raise UpstreamError(f"Rasa answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError("Rasa answered a body that is not JSON") from exc
        if not isinstance(body, list):
            raise UpstreamError("Rasa answered JSON that is not a list of messages")
        return [item for item in body if isinstance(item, dict)]

    async def _probe(self, url: str, expect: str | None = None) -> bool:
        return await self._state(url, expect) == UP

    async def _state(self, url: str, expect: str | None = None) -> str:
        try:
            response = await self._http().get(url, timeout=HEALTH_TIMEOUT_S)
        except httpx.TimeoutException:
            log.info("health probe %s: no answer in %.0f s (busy)", url, HEALTH_TIMEOUT_S)
            return BUSY
        except httpx.HTTPError as exc:
            log.info("health probe %s failed: %s", url, type(exc).__name__)
            return DOWN
        if response.status_code != 200:
            return DOWN
        return UP if expect is None or expect in response.text else DOWN

    async def rasa_ok(self) -> bool:
        """See :meth:`RasaClient.rasa_ok` (``GET /`` says "Hello from Rasa")."""
        return await self._probe(f"{self.rasa_url}/", expect="Hello from Rasa")

    async def actions_ok(self) -> bool:
        """See :meth:`RasaClient.actions_ok` (``GET /health`` answers 200)."""
        return await self._probe(f"{self.actions_url}/health")

    async def actions_state(self) -> str:
        """See :meth:`RasaClient.actions_state`."""
        return await self._state(f"{self.actions_url}/health")

    async def aclose(self) -> None:
        """See :meth:`RasaClient.aclose`."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


Script = Callable[[str, str, Mapping[str, Any]], Sequence[RasaMessage]]
"""A fake Rasa's behaviour: ``(sender, message, metadata) -> messages``."""


def echo_script(sender: str, message: str, metadata: Mapping[str, Any]) -> list[RasaMessage]:
    """The fake's default behaviour: echo the text and offer rating buttons 1-5.

    Button payloads follow the real domain's shape (``/rate{"rating": N}``); a payload
    starting with ``/`` is answered with an echo and no buttons.
    """
    language = str(metadata.get("language", ""))
    if message.startswith("/"):
        return [{"recipient_id": sender, "text": f"[{language}] {message}"}]
    buttons = [{"title": str(n), "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
    return [{"recipient_id": sender, "text": f"[{language}] {message}", "buttons": buttons}]


@dataclass
class FakeRasaClient:
    """In-tree fake :class:`RasaClient`: records what it is sent, answers from a script.

    Attributes:
        script: the behaviour (default :func:`echo_script`).
        down: ``send`` raises :class:`UpstreamError` as if Rasa were unreachable.
        actions_down: ``actions_ok`` is false and ``send`` answers ``[]``.
        busy: the action server is there but too slow: ``actions_state`` is ``busy``.
        silent: ``send`` answers ``[]`` while ``actions_ok`` stays true.
        sent: every ``(sender, message, metadata)`` received, in order.
    """

    script: Script = echo_script
    down: bool = False
    actions_down: bool = False
    busy: bool = False
    silent: bool = False
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any]
    ) -> list[RasaMessage]:
        """See :meth:`RasaClient.send`."""
        if self.down:
            raise UpstreamError("fake Rasa is down")
        self.sent.append((sender, message, dict(metadata)))
        if self.actions_down or self.silent:
            return []
        return list(self.script(sender, message, metadata))

    async def rasa_ok(self) -> bool:
        """See :meth:`RasaClient.rasa_ok`."""
        return not self.down

    async def actions_ok(self) -> bool:
        """See :meth:`RasaClient.actions_ok`."""
        return not self.actions_down and not self.busy

    async def actions_state(self) -> str:
        """See :meth:`RasaClient.actions_state`."""
        return DOWN if self.actions_down else BUSY if self.busy else UP

    async def aclose(self) -> None:
        """See :meth:`RasaClient.aclose`."""
