"""Alert destinations: where outbox rows are delivered.

This module owns the :class:`Destination` interface, the generic :class:`WebhookDestination`
(HTTP POST with httpx; body is Vécu's JSON alert document or, with ``format: slack``, a
Slack-compatible ``{"text", "blocks"}``; the idempotency key travels in the
``X-Vecu-Alert-Id`` header), the in-tree :class:`FakeDestination` for tests, and
:class:`ConfigDestinations`, which resolves ``(team, destination name)`` from the company
configuration. The HTTP transport is injectable (``httpx.MockTransport`` in tests).

Errors: a failed delivery raises :class:`~bot.errors.DeliveryError` (retried with backoff);
:class:`PermanentDeliveryError` marks failures retrying cannot fix (HTTP 4xx other than
408/409/425/429), so the row goes ``dead`` at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from bot import __version__
from bot.alerts.payload import slack_body
from bot.company import Company
from bot.company import Destination as DestinationConfig
from bot.errors import DeliveryError

if TYPE_CHECKING:
    from bot.services import Services
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
        from datetime import UTC, datetime

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
        """A destination for one configured entry."""
        if config.type == "telegram":
            from bot.alerts.telegram import TelegramTeamDestination

            settings = self.services.settings if self.services else None
            token = team_token(settings) if settings else ""
            return TelegramTeamDestination(
                str(config.chat_id),
                token=token,
                base_url=settings.telegram_api_base_url if settings else "",
                timeout_s=config.timeout_s,
                client=self._client,
            )
        if config.type == "email":
            from bot.alerts.email import EmailDestination
            from bot.settings import get_settings

            return EmailDestination(
                list(config.to),
                settings=self.services.settings if self.services else get_settings(),
            )
        assert config.url is not None  # validated by the company configuration
        return WebhookDestination(
            config.url,
            format=config.format,
            headers=config.headers,
            timeout_s=config.timeout_s,
            client=self._client,
        )

    def person(self) -> Destination | None:
        """The closed loop's destination (``None`` without services)."""
        if self._person is None and self.services is not None:
            from bot.alerts.closing import PersonDestination, store_inbox
            from bot.channels.outbound import (
                InboxSender,
                RasaIntentTrigger,
                RoutingSender,
                TelegramSender,
            )

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
        from bot.alerts.outbox import PERSON_DESTINATION

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


def team_token(settings: Settings) -> str:
    """The token of the bot that posts team alerts (team bot, else the employee bot)."""
    return (settings.telegram_team_token or settings.telegram_employee_token).strip()
