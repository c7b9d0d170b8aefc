"""The alert worker: drains the outbox with retries, exponential backoff and jitter.

This module owns :func:`deliver_due` (one pass: unacknowledged urgent issues are escalated,
:func:`bot.alerts.escalation.escalate_due`, then every due row is attempted once) and
:func:`run_worker` (the loop ``vecu worker`` runs). Each row is delivered in its own
transaction, re-checked and locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so two
workers never send the same row; the idempotency key (``X-Vecu-Alert-Id``) lets receivers
drop the duplicate a crash between delivery and commit could cause.

Retry policy: attempt *n* failing waits ``backoff_s * 2**(n-1)`` seconds, capped at one
hour, with "equal jitter" (half fixed, half random); after ``alert_max_attempts`` attempts,
or at once for a permanent failure or a destination removed from the configuration, the row
is ``dead`` (kept, with its last error, for an operator to re-queue).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.destinations import Alert, Destination, PermanentDeliveryError, RetryLaterError
from bot.alerts.escalation import escalate_due
from bot.alerts.outbox import due
from bot.alerts.resolve import ConfigDestinations
from bot.errors import DeliveryError
from bot.services import Services, get_services
from bot.storage.models import AlertOutboxRecord, OutboxStatus

log = logging.getLogger(__name__)

MAX_DELAY_S = 3600.0
Resolver = Callable[[str, str], Destination | None]


@dataclass
class WorkerReport:
    """What one pass (or a whole run) did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        """How many deliveries were attempted."""
        return self.sent + self.retried + self.dead

    def add(self, other: WorkerReport) -> None:
        """Accumulate ``other`` into this report."""
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead


def backoff_delay(
    attempts: int, *, base_s: float, rng: random.Random, cap_s: float = MAX_DELAY_S
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (exponential, equal jitter)."""
    exponential = min(cap_s, base_s * 2 ** max(0, attempts - 1))
    return exponential / 2 + rng.uniform(0, exponential / 2)


def _attempt(
    row: AlertOutboxRecord,
    destination: Destination | None,
    *,
    services: Services,
    rng: random.Random,
    report: WorkerReport,
) -> None:
    now = services.clock()
    row.attempts += 1
    if destination is None:
        row.status = OutboxStatus.DEAD.value
        row.last_error = f"destination {row.destination!r} is no longer configured for {row.team!r}"
        report.dead += 1
        return
    alert = Alert(row.alert_id, row.team, row.kind, row.severity, dict(row.payload))
    try:
        destination.deliver(alert)
    except DeliveryError as exc:
        row.last_error = str(exc)[:2000]
        if isinstance(exc, PermanentDeliveryError) or (
            row.attempts >= services.settings.alert_max_attempts
        ):
            row.status = OutboxStatus.DEAD.value
            report.dead += 1
            log.warning("alert %s is dead after %d attempt(s): %s", row.alert_id, row.attempts, exc)
            return
        delay = backoff_delay(row.attempts, base_s=services.settings.alert_backoff_s, rng=rng)
        if isinstance(exc, RetryLaterError):
            delay = min(MAX_DELAY_S, max(delay, exc.retry_after_s))
        row.status = OutboxStatus.FAILED.value
        row.next_attempt_at = now + timedelta(seconds=delay)
        report.retried += 1
        log.info("alert %s failed (%s); retry in %.1fs", row.alert_id, exc, delay)
        return
    except Exception as exc:  # a destination bug must not stop the worker
        log.exception("alert %s: unexpected delivery error", row.alert_id)
        row.last_error = f"unexpected error: {exc.__class__.__name__}: {exc}"[:2000]
        row.status = OutboxStatus.FAILED.value
        row.next_attempt_at = now + timedelta(
            seconds=backoff_delay(row.attempts, base_s=services.settings.alert_backoff_s, rng=rng)
        )
        if row.attempts >= services.settings.alert_max_attempts:
            row.status = OutboxStatus.DEAD.value
            report.dead += 1
        else:
            report.retried += 1
        return
    row.status = OutboxStatus.SENT.value
    row.sent_at = now
    row.last_error = None
    report.sent += 1


def deliver_due(
    *,
    services: Services | None = None,
    destinations: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
    rng: random.Random | None = None,
    limit: int = 50,
) -> WorkerReport:
    """Attempt every outbox row that is due now (at most ``limit``), once.

    Args:
        services: dependencies (default: :func:`bot.services.get_services`).
        destinations: resolves ``(team, destination name)``; default: built from the
            company configuration with ``transport``.
        transport: the httpx transport for the default destinations (tests).
        rng: the randomness of the jitter (tests pass a seeded one).
        limit: the most rows handled in this pass.
    """
    services = services or get_services()
    rng = rng or random.Random()
    owned = None
    if destinations is None:
        owned = ConfigDestinations(services.company, transport=transport, services=services)
        destinations = owned
    report = WorkerReport()
    try:
        escalate_due(services)
        with services.sessions() as session:
            ids = [row.id for row in due(session, now=services.clock(), limit=limit)]
        for row_id in ids:
            with services.sessions.begin() as session:
                row = session.scalars(
                    select(AlertOutboxRecord)
                    .where(AlertOutboxRecord.id == row_id)
                    .with_for_update(skip_locked=True)
                ).one_or_none()
                if row is None or row.status not in (
                    OutboxStatus.PENDING.value,
                    OutboxStatus.FAILED.value,
                ):
                    continue  # another worker took it
                _attempt(
                    row,
                    destinations(row.team, row.destination),
                    services=services,
                    rng=rng,
                    report=report,
                )
    finally:
        if owned is not None:
            owned.close()
    return report


def run_worker(
    *,
    services: Services | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    destinations: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
    rng: random.Random | None = None,
) -> WorkerReport:
    """Deliver alerts until ``stop`` is set (or one pass with ``once``).

    Database errors are logged and retried after the poll interval; the loop only ends
    when asked.
    """
    services = services or get_services()
    stop = stop or threading.Event()
    owned = None
    if destinations is None:
        owned = ConfigDestinations(services.company, transport=transport, services=services)
        destinations = owned
    total = WorkerReport()
    try:
        while True:
            try:
                report = deliver_due(services=services, destinations=destinations, rng=rng)
                total.add(report)
            except SQLAlchemyError:
                log.exception("the outbox cannot be read; retrying")
                report = WorkerReport()
            if once or stop.is_set():
                return total
            if report.attempted == 0:
                stop.wait(services.settings.worker_interval_s)
                if stop.is_set():
                    return total
    finally:
        if owned is not None:
            owned.close()
