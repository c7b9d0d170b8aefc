"""Alert destinations: where outbox rows are delivered.

This module owns the :class:`Destination` interface and the registry of the destination types
channels add (:func:`register_destination`), the generic :class:`WebhookDestination`
(HTTP POST with httpx; body is Vécu's JSON alert document or, with ``format: slack``, a
Slack-compatible ``{"text", "blocks"}``; the idempotency key travels in the
``X-Vecu-Alert-Id`` header), and the in-tree :class:`FakeDestination` for tests
(:class:`bot.alerts.resolve.ConfigDestinations` resolves ``(team, destination name)`` from the
company configuration). The HTTP transport is injectable (``httpx.MockTransport`` in tests).

Errors: a failed delivery raises :class:`~bot.errors.DeliveryError` (retried with backoff);
:class:`PermanentDeliveryError` marks failures retrying cannot fix (HTTP 4xx other than
408/409/425/429), so the row goes ``dead`` at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from bot import __version__
from bot.alerts.payload import slack_body
from bot.company import Destination as DestinationConfig
from bot.errors import DeliveryError

if TYPE_CHECKING:
    from bot.settings import Settings

ALERT_ID_HEADER = "X-Vecu-Alert-Id"
RETRYABLE_4XX = {408, 409, 425, 429}


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying cannot fix (bad URL, refused payload…)."""


class RetryLaterError(DeliveryError):
    """The destination asked to be retried after ``retry_after_s`` seconds."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Alert:
    """One alert to deliver.

    Attributes:
        alert_id: the idempotency key (the same on every retry of this row).
        team: the team told.
        kind: issue, praise, followup or escalation.
        severity: low, normal, high or urgent.
        payload: Vécu's alert document (see :mod:`bot.alerts.payload`).
    """

    alert_id: str
    team: str
    kind: str
    severity: str
    payload: dict[str, Any]


class Destination(Protocol):
    """Anything that can deliver an alert (raises :class:`DeliveryError` on failure)."""

    def deliver(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise :class:`~bot.errors.DeliveryError`."""
        ...


class DestinationFactory(Protocol):
    """Builds a channel's team destination from its configured entry."""

    def __call__(
        self, config: DestinationConfig, *, settings: Settings | None, client: httpx.Client
    ) -> Destination:
        """The destination for ``config`` (``settings`` ``None`` only in tests)."""
        ...


_FACTORIES: dict[str, DestinationFactory] = {}


def register_destination(kind: str, factory: DestinationFactory) -> None:
    """Make a destination ``type`` of ``company.yml`` deliverable (a channel calls it once)."""
    _FACTORIES[kind] = factory


def destination_factory(kind: str) -> DestinationFactory | None:
    """The factory registered for ``kind``, if a channel registered one."""
    return _FACTORIES.get(kind)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None

        return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookDestination:
    """POST alerts to a URL as JSON (Vécu's document or a Slack-compatible body)."""

    def __init__(
        self,
        url: str,
        *,
        format: Literal["json", "slack"] = "json",
        headers: dict[str, str] | None = None,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.format = format
        self.headers = dict(headers or {})
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(transport=transport, follow_redirects=False)

    def body(self, alert: Alert) -> dict[str, Any]:
        """The JSON body posted for ``alert``."""
        return slack_body(alert.payload) if self.format == "slack" else alert.payload

    def deliver(self, alert: Alert) -> None:
        """POST the alert; 2xx is success.

        Raises:
            PermanentDeliveryError: a 4xx answer retrying cannot fix.
            RetryLaterError: 429/503 with a ``Retry-After`` header.
            DeliveryError: any other failure (network, timeout, 5xx).
        """
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"vecu/{__version__}",
            ALERT_ID_HEADER: alert.alert_id,
            **self.headers,
        }
        content = json.dumps(self.body(alert), ensure_ascii=False).encode("utf-8")
        try:
            response = self._client.post(
                self.url, content=content, headers=headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
        if response.is_success:
            return
        message = f"HTTP {response.status_code} from {self.url}"
        retry_after = _retry_after(response)
        if response.status_code in (429, 503) and retry_after is not None:
            raise RetryLaterError(message, retry_after)
        if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX:
            raise PermanentDeliveryError(message)
        raise DeliveryError(message)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


@dataclass
class FakeDestination:
    """The in-tree fake: records deliveries; can fail a number of times first.

    Attributes:
        fail_times: how many deliveries fail before they succeed.
        permanent: whether those failures are permanent.
        delivered: the alerts delivered, in order.
        attempts: how many deliveries were attempted.
    """

    fail_times: int = 0
    permanent: bool = False
    delivered: list[Alert] = field(default_factory=list)
    attempts: int = 0

    def deliver(self, alert: Alert) -> None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            error = PermanentDeliveryError if self.permanent else DeliveryError
            raise error(f"fake failure {self.attempts}")
        self.delivered.append(alert)
