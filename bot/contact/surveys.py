"""The survey sender: delivers the contact outbox to the person's channel through Rasa.

This module owns the delivery side of the contact ledger:

- :class:`Outbound`, the interface "trigger an intent in a person's conversation and deliver
  the replies to their channel", with :class:`RasaTelegramOutbound` (the real one: Rasa's HTTP
  API, then the Telegram Bot API, or the web chat inbox for a person known only by a web chat
  session) and :class:`FakeOutbound` (in-tree fake);
- :func:`send_due` (one pass over what is due) and :func:`send_one` (one row, used by the
  events API right after an event so the survey arrives within seconds), with a claim so two
  senders never send the same row, retries with exponential backoff when Rasa or Telegram is
  down (nothing is lost: the row waits), and ``dead`` after ``contact_policy.max_attempts``;
- just before sending, the ledger is asked again: an opt-out said meanwhile cancels the row,
  and a row deferred by quiet hours is decided anew (caps, open issues, quiet hours);
- the event-to-survey latency (``received_at`` → delivered) is stored on the row
  (``latency_ms``).

Employees are reached through the employee bot, customers through the customer bot; the
conversation id given to Rasa is the pseudonym of the Telegram chat, the same one the
Telegram gateway uses, so the person's answers land in the same conversation.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.contact import ledger, outbound
from bot.contact.routes import store_inbox
from bot.errors import DeliveryError, StorageError, UpstreamError
from bot.i18n import normalize_language
from bot.services import Services, get_services
from bot.settings import Settings
from bot.storage.models import (
    ContactDecisionRecord,
    ContactOutboxRecord,
    ContactOutcome,
    ContactStatus,
    IdentityKind,
    PersonIdentityRecord,
    PersonRecord,
    TouchpointEventRecord,
)

log = logging.getLogger(__name__)

CLAIM_S = 120.0
"""A claimed row not finished after this long (a crashed sender) is due again."""
MAX_DELAY_S = 3600.0


@dataclass(frozen=True)
class Target:
    """Where a solicitation goes.

    Attributes:
        channel: ``telegram`` or ``web``.
        audience: the bot (``customer`` or ``employee``).
        address: the raw chat id on Telegram; on the web, the pseudonymous conversation id
            whose inbox the chat page collects.
        conversation_id: the pseudonym Rasa knows the conversation by.
        language: the person's language (``fr``/``en``).
    """

    channel: str
    audience: str
    address: str
    conversation_id: str
    language: str


class Outbound(Protocol):
    """Trigger an intent in a person's conversation and deliver the replies to their channel."""

    async def trigger(self, target: Target, intent: str, entities: Mapping[str, Any]) -> int:
        """Run ``intent`` in the conversation and deliver Rasa's replies.

        Returns:
            How many messages reached the channel.

        Raises:
            UpstreamError: Rasa did not answer (retried later).
            DeliveryError: the channel refused or failed (retried later).
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@dataclass
class FakeOutbound:
    """In-tree fake :class:`Outbound`: records every call, fails on demand.

    Attributes:
        fail: raise :class:`UpstreamError` (as if Rasa were down).
        calls: ``(target, intent, entities)`` in order.
    """

    fail: bool = False
    calls: list[tuple[Target, str, dict[str, Any]]] = field(default_factory=list)

    async def trigger(self, target: Target, intent: str, entities: Mapping[str, Any]) -> int:
        """See :meth:`Outbound.trigger`."""
        if self.fail:
            raise UpstreamError("fake Rasa is down")
        self.calls.append((target, intent, dict(entities)))
        return 1

    async def aclose(self) -> None:
        """See :meth:`Outbound.aclose`."""


class RasaTelegramOutbound:
    """The real :class:`Outbound`, on :mod:`bot.contact.outbound` (the shared delivery module).

    1. ``POST {RASA_URL}/conversations/{id}/tracker/events``: the conversation's language,
       audience and channel slots (a person Vécu writes to first has no conversation yet, and
       the survey's words must be in their language from the first message);
    2. :func:`bot.contact.outbound.notify`: ``trigger_intent``, then ``sendMessage`` through
       the bot of the person's audience, buttons as an inline keyboard whose ``callback_data``
       is the payload (what the Telegram gateway expects when it is pressed); on the web
       channel the replies go to the session's inbox (:func:`bot.contact.routes.store_inbox`),
       which the chat page collects and shows with their buttons.

    The shared module is synchronous: it runs in a worker thread.

    Args:
        settings: Rasa URL and token, Telegram tokens and Bot API base URL.
        transport: an httpx transport (tests).
        services: the database of the web inbox (default: :func:`bot.services.get_services`
            at the first web delivery).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        services: Services | None = None,
    ):
        self.settings = settings
        self.services = services
        self._client = httpx.Client(transport=transport)
        self._trigger = outbound.RasaIntentTrigger(
            settings.rasa_url, settings.rasa_token, timeout_s=settings.rasa_timeout_s,
            client=self._client,
        )  # fmt: skip
        telegram = outbound.TelegramSender(
            {
                "customer": settings.telegram_customer_token,
                "employee": settings.telegram_employee_token,
            },
            base_url=settings.telegram_api_base_url,
            client=self._client,
        )
        self._sender = outbound.RoutingSender(
            {
                IdentityKind.TELEGRAM.value: telegram,
                IdentityKind.WEB.value: outbound.InboxSender(self._store_inbox),
            }
        )

    def _store_inbox(self, route: outbound.Route, messages: list[outbound.OutboundMessage]) -> None:
        try:
            store_inbox(route, messages, services=self.services or get_services())
        except StorageError as exc:  # retried like a channel outage: the row waits
            raise DeliveryError(str(exc)) from exc

    def _prime(self, target: Target) -> None:
        """Set the conversation's language, audience and channel slots in Rasa."""
        slots = {"language": target.language, "audience": target.audience,
                 "channel": target.channel}  # fmt: skip
        url = (
            f"{self.settings.rasa_url.rstrip('/')}/conversations/"
            f"{quote(target.conversation_id, safe='')}/tracker/events"
        )
        try:
            response = self._client.post(
                url,
                params={"token": self.settings.rasa_token},
                json=[{"event": "slot", "name": k, "value": v} for k, v in slots.items()],
                timeout=self.settings.rasa_timeout_s,
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"Rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise outbound.PermanentOutboundError(f"Rasa refused: HTTP {response.status_code}")
        if not response.is_success:
            raise UpstreamError(f"Rasa answered HTTP {response.status_code}")

    def _deliver(self, target: Target, intent: str, entities: Mapping[str, Any]) -> int:
        route = outbound.Route(
            conversation_id=target.conversation_id,
            audience=target.audience,
            channel=target.channel,
            address=target.address,
            language=target.language,
        )
        self._prime(target)
        messages = outbound.notify(
            route, intent, trigger=self._trigger, sender=self._sender, entities=entities
        )
        return len(messages)

    async def trigger(self, target: Target, intent: str, entities: Mapping[str, Any]) -> int:
        """See :meth:`Outbound.trigger`."""
        return await asyncio.to_thread(self._deliver, target, intent, dict(entities))

    async def aclose(self) -> None:
        """See :meth:`Outbound.aclose`."""
        self._client.close()


def default_outbound(settings: Settings, *, services: Services | None = None) -> Outbound:
    """The outbound of the running deployment (Rasa + Telegram, and the web chat inbox)."""
    return RasaTelegramOutbound(settings, services=services)


@dataclass
class SendReport:
    """What one pass did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    deferred: int = 0

    @property
    def attempted(self) -> int:
        """How many rows were handled."""
        return self.sent + self.retried + self.dead + self.cancelled + self.deferred


def backoff(attempt: int, base_s: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (exponential, capped, equal jitter)."""
    delay = min(MAX_DELAY_S, base_s * 2 ** max(0, attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def _claim(services: Services, row_id: int) -> bool:
    """Take the row for this sender (``False``: another one has it, or it is not due)."""
    now = services.clock()
    with services.sessions.begin() as session:
        result = session.execute(
            update(ContactOutboxRecord)
            .where(
                ContactOutboxRecord.id == row_id,
                ContactOutboxRecord.next_attempt_at <= now,
                ContactOutboxRecord.status.in_(
                    [ContactStatus.PENDING.value, ContactStatus.SENDING.value]
                ),
            )
            .values(
                status=ContactStatus.SENDING.value,
                next_attempt_at=now + timedelta(seconds=CLAIM_S),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _target(session: Session, row: ContactOutboxRecord, person: PersonRecord, policy_lang: str,
            audience: str) -> Target | None:  # fmt: skip
    channel = row.channel or IdentityKind.TELEGRAM.value
    statement = select(PersonIdentityRecord).where(
        PersonIdentityRecord.person_id == person.id,
        PersonIdentityRecord.kind == channel,
        PersonIdentityRecord.conversation_id.is_not(None),
    )
    if channel != IdentityKind.WEB.value:  # a web session belongs to no bot
        statement = statement.where(PersonIdentityRecord.scope == audience)
    identity = session.scalars(
        statement.order_by(PersonIdentityRecord.last_seen_at.desc()).limit(1)
    ).first()
    if identity is None or identity.conversation_id is None:
        return None
    web = identity.kind == IdentityKind.WEB.value
    return Target(
        channel=identity.kind,
        audience=audience,
        address=identity.conversation_id if web else identity.value,
        conversation_id=identity.conversation_id,
        language=normalize_language(person.language or policy_lang),
    )


def _recheck(
    session: Session, row: ContactOutboxRecord, person: PersonRecord, services: Services,
    audience: str,
) -> ledger.Verdict | None:  # fmt: skip
    """Ask the ledger again just before sending; ``None`` when the row may go as decided."""
    policy = services.company.contact_policy
    now = services.clock()
    decision = session.get(ContactDecisionRecord, row.decision_id) if row.decision_id else None
    if decision is not None and decision.outcome == ContactOutcome.DEFERRED.value:
        return ledger.decide(
            session=session, person=person, purpose=ledger.Purpose(row.purpose),
            touchpoint=row.touchpoint, audience=audience, policy=policy, now=now,
        )  # fmt: skip
    granted, source = ledger.consent_granted(
        session=session, person_id=person.id, purpose=ledger.ConsentPurpose.SURVEYS, policy=policy
    )
    if not granted:
        opted = bool(source and source.startswith(ledger.OPT_OUT_SOURCE))
        reason = ledger.Reason.OPTED_OUT if opted else ledger.Reason.NO_CONSENT
        return ledger.Verdict(ContactOutcome.SUPPRESSED, reason, f"consent refused ({source})")
    return None


async def send_one(
    row_id: int,
    *,
    sender: Outbound,
    services: Services | None = None,
    rng: random.Random | None = None,
    report: SendReport | None = None,
) -> SendReport:
    """Deliver one outbox row if it is due and nobody else has it (see the module docstring)."""
    services = services or get_services()
    rng = rng or random.Random()
    report = report if report is not None else SendReport()
    if not await asyncio.to_thread(_claim, services, row_id):
        return report
    policy = services.company.contact_policy

    def prepare() -> tuple[Target | None, str, dict[str, Any], str | None]:
        with services.sessions.begin() as session:
            row = session.get(ContactOutboxRecord, row_id)
            assert row is not None
            person = session.get(PersonRecord, row.person_id)
            touchpoint = services.company.touchpoint(row.touchpoint)
            audience = touchpoint.audience if touchpoint else "customer"
            if person is None:
                row.status = ContactStatus.CANCELLED.value
                row.last_error = "the person no longer exists"
                return None, row.intent, {}, "cancelled"
            verdict = _recheck(session, row, person, services, audience)
            if verdict is not None:
                ledger.record(
                    session=session, person=person, verdict=verdict,
                    purpose=ledger.Purpose(row.purpose), touchpoint=row.touchpoint,
                    now=services.clock(), event_id=row.event_id, outbox=row,
                )  # fmt: skip
                if verdict.outcome is not ContactOutcome.SENT:
                    return None, row.intent, {}, verdict.outcome.value
                row.status = ContactStatus.SENDING.value  # still ours: ledger.record re-queued it
                row.next_attempt_at = services.clock() + timedelta(seconds=CLAIM_S)
            target = _target(session, row, person, services.company.default_language, audience)
            if target is None:
                verdict = ledger.Verdict(
                    ContactOutcome.SUPPRESSED, ledger.Reason.NO_CHANNEL, "no channel any more"
                )
                ledger.record(
                    session=session, person=person, verdict=verdict,
                    purpose=ledger.Purpose(row.purpose), touchpoint=row.touchpoint,
                    now=services.clock(), event_id=row.event_id, outbox=row,
                )  # fmt: skip
                return None, row.intent, {}, "suppressed"
            return target, row.intent, dict(row.entities or {}), None

    target, intent, entities, skipped = await asyncio.to_thread(prepare)
    if target is None:
        if skipped == ContactOutcome.DEFERRED.value:
            report.deferred += 1
        else:
            report.cancelled += 1
        return report
    error: str | None = None
    permanent = False
    try:
        await sender.trigger(target, intent, entities)
    except outbound.PermanentOutboundError as exc:
        error, permanent = str(exc), True
    except (UpstreamError, DeliveryError) as exc:
        error = str(exc)
    except Exception as exc:  # an outbound bug must not lose the row
        log.exception("unexpected failure delivering contact %s", row_id)
        error = f"{type(exc).__name__}: {exc}"

    def finish() -> None:
        now = services.clock()
        with services.sessions.begin() as session:
            row = session.get(ContactOutboxRecord, row_id)
            if row is None:
                return
            row.attempts += 1
            if error is None:
                row.status = ContactStatus.SENT.value
                row.sent_at = now
                row.last_error = None
                event = session.get(TouchpointEventRecord, row.event_id) if row.event_id else None
                start = event.received_at if event else row.created_at
                row.latency_ms = max(0, int((now - start).total_seconds() * 1000))
                report.sent += 1
                log.info("contact %s delivered (%s ms after the event)", row_id, row.latency_ms)
            elif permanent or row.attempts >= policy.max_attempts:
                row.status = ContactStatus.DEAD.value
                row.last_error = error
                report.dead += 1
                log.error("contact %s gave up after %s attempts: %s", row_id, row.attempts, error)
            else:
                row.status = ContactStatus.PENDING.value
                row.last_error = error
                delay = backoff(row.attempts, services.settings.alert_backoff_s, rng)
                row.next_attempt_at = now + timedelta(seconds=delay)
                report.retried += 1
                log.warning("contact %s failed (%s); retry in %.0f s", row_id, error, delay)

    await asyncio.to_thread(finish)
    return report


def due_ids(services: Services, *, limit: int = 50) -> list[int]:
    """The outbox rows to attempt now, oldest first."""
    now = services.clock()
    with services.sessions() as session:
        return list(
            session.scalars(
                select(ContactOutboxRecord.id)
                .where(
                    or_(
                        ContactOutboxRecord.status == ContactStatus.PENDING.value,
                        ContactOutboxRecord.status == ContactStatus.SENDING.value,
                    ),
                    ContactOutboxRecord.next_attempt_at <= now,
                )
                .order_by(ContactOutboxRecord.next_attempt_at, ContactOutboxRecord.id)
                .limit(limit)
            ).all()
        )


async def send_due(
    *, sender: Outbound, services: Services | None = None, rng: random.Random | None = None
) -> SendReport:
    """One pass: every due row is attempted once, one after the other (caps see each other)."""
    services = services or get_services()
    report = SendReport()
    for row_id in await asyncio.to_thread(due_ids, services):
        await send_one(row_id, sender=sender, services=services, rng=rng, report=report)
    return report


def run_sender(
    *,
    services: Services | None = None,
    sender: Outbound | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
) -> SendReport:
    """Deliver the contact outbox until ``stop`` is set (or one pass with ``once``)."""
    services = services or get_services()
    stop = stop or threading.Event()
    sender = sender or default_outbound(services.settings, services=services)
    total = SendReport()

    async def loop() -> None:
        try:
            while True:
                try:
                    report = await send_due(sender=sender, services=services)
                except Exception:
                    log.exception("the contact outbox cannot be read; retrying")
                    report = SendReport()
                for name in ("sent", "retried", "dead", "cancelled", "deferred"):
                    setattr(total, name, getattr(total, name) + getattr(report, name))
                if once or stop.is_set():
                    return
                if report.attempted == 0:
                    await asyncio.to_thread(stop.wait, services.settings.worker_interval_s)
                    if stop.is_set():
                        return
        finally:
            await sender.aclose()

    asyncio.run(loop())
    return total


def latency_summary(rows: Sequence[int]) -> dict[str, float]:
    """p50/p95/max of event-to-survey latencies in milliseconds."""
    if not rows:
        return {}
    ordered = sorted(rows)

    def pick(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])

    return {"count": float(len(ordered)), "p50": pick(0.5), "p95": pick(0.95), "max": pick(1.0)}
