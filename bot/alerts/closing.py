"""The closed loop: remember how to reach a person, ask them, tell them when it is resolved.

This module owns:

- :func:`save_route`: the channel that received a person writes (or refreshes) their
  ``contact_route`` (Telegram: private chat id and bot audience; web: the pseudonymous
  conversation id). :func:`set_consent` stores their answer to "may we tell you when it's
  resolved?" (``action_record_contact_consent``); a refusal erases the address.
- :func:`enqueue_closing`: called by :mod:`bot.alerts.workflow` when an issue is resolved,
  in the same transaction: when the person agreed, one ``alert_outbox`` row addressed to the
  reserved destination :data:`PERSON_DESTINATION` (``kind`` ``closing``), so the worker
  delivers it with the same retries as team alerts and nothing is lost while Rasa or
  Telegram is down. The row's payload names the feedback and the intent, never the address.
- :class:`PersonDestination`: the worker's destination for those rows: it reads the route
  at delivery time (consent withdrawn since → not sent, permanently), then
  :func:`bot.channels.outbound.notify` triggers ``EXTERNAL_issue_resolved`` in the person's
  conversation (Rasa answers ``utter_issue_resolved`` in their language) and delivers it on
  their channel. Teams never see the route: an employee stays pseudonymous.
- :func:`store_inbox` / :func:`collect_inbox`: the web chat inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.alerts.destinations import Alert, PermanentDeliveryError
from bot.alerts.outbox import PERSON_DESTINATION
from bot.channels.outbound import (
    ChannelSender,
    IntentTrigger,
    OutboundMessage,
    PermanentOutboundError,
    Route,
    notify,
)
from bot.company import Company
from bot.errors import StorageError
from bot.services import Services, get_services
from bot.storage.models import (
    AlertOutboxRecord,
    ContactRouteRecord,
    FeedbackRecord,
    OutboxStatus,
    WebInboxRecord,
)

CLOSING_KIND = "closing"
RESOLVED_INTENT = "EXTERNAL_issue_resolved"
CLOSING_SCHEMA = "vecu.closing/1"
WEB_CHANNEL = "web"


def save_route(
    *,
    conversation_id: str,
    audience: str,
    channel: str,
    address: str,
    language: str,
    services: Services | None = None,
) -> None:
    """Create or refresh the route of ``(conversation_id, channel)`` (consent is kept).

    Raises:
        StorageError: the database refused the write.
    """
    services = services or get_services()
    now = services.clock()
    try:
        with services.sessions.begin() as session:
            row = session.scalars(
                select(ContactRouteRecord).where(
                    ContactRouteRecord.conversation_id == conversation_id,
                    ContactRouteRecord.channel == channel,
                )
            ).one_or_none()
            if row is None:
                session.add(
                    ContactRouteRecord(
                        conversation_id=conversation_id[:128],
                        audience=audience,
                        channel=channel[:32],
                        address=address[:128] if address else None,
                        language=language[:8],
                        consent=None,
                        consent_at=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return
            if row.consent is not False:  # a refusal keeps the address erased
                row.address = address[:128]
            row.audience = audience
            row.language = language[:8]
            row.updated_at = now
    except SQLAlchemyError as exc:
        raise StorageError(
            f"the contact route could not be stored: {exc.__class__.__name__}"
        ) from exc


def set_consent(
    conversation_id: str,
    consent: bool,
    *,
    channel: str | None = None,
    audience: str = "customer",
    language: str | None = None,
    services: Services | None = None,
) -> int:
    """Store the person's answer on every route of ``conversation_id``.

    On the web channel the route is the pseudonymous conversation id itself (its page
    collects the inbox), so it is created here when missing. A refusal erases the stored
    addresses.

    Returns:
        How many routes were updated.

    Raises:
        StorageError: the database refused the write.
    """
    services = services or get_services()
    now = services.clock()
    try:
        with services.sessions.begin() as session:
            if channel == WEB_CHANNEL:
                exists = session.scalars(
                    select(ContactRouteRecord.id).where(
                        ContactRouteRecord.conversation_id == conversation_id,
                        ContactRouteRecord.channel == WEB_CHANNEL,
                    )
                ).first()
                if exists is None:
                    session.add(
                        ContactRouteRecord(
                            conversation_id=conversation_id[:128],
                            audience=audience,
                            channel=WEB_CHANNEL,
                            address=conversation_id[:128],
                            language=(language or "fr")[:8],
                            consent=None,
                            consent_at=None,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    session.flush()
            rows = list(
                session.scalars(
                    select(ContactRouteRecord).where(
                        ContactRouteRecord.conversation_id == conversation_id
                    )
                )
            )
            for row in rows:
                row.consent = consent
                row.consent_at = now
                row.updated_at = now
                if language:
                    row.language = language[:8]
                if not consent:
                    row.address = None
            return len(rows)
    except SQLAlchemyError as exc:
        raise StorageError(f"the consent could not be stored: {exc.__class__.__name__}") from exc


def _consented_route(
    session: Session, conversation_id: str, channel: str | None
) -> ContactRouteRecord | None:
    rows = list(
        session.scalars(
            select(ContactRouteRecord)
            .where(
                ContactRouteRecord.conversation_id == conversation_id,
                ContactRouteRecord.consent.is_(True),
                ContactRouteRecord.address.is_not(None),
            )
            .order_by(ContactRouteRecord.updated_at.desc())
        )
    )
    for row in rows:
        if row.channel == channel:
            return row
    return rows[0] if rows else None


def enqueue_closing(
    session: Session, *, feedback: FeedbackRecord, company: Company, now: datetime
) -> bool:
    """Queue the "it's resolved" message to the person, if they agreed (flushed, not committed).

    Returns:
        Whether a message was queued.
    """
    import uuid

    root = feedback
    while root.parent_id is not None:  # follow-ups belong to the conversation of the root
        parent = session.get(FeedbackRecord, root.parent_id)
        if parent is None:
            break
        root = parent
    route = _consented_route(session, root.conversation_id, root.channel)
    if route is None:
        return False
    alert_id = str(uuid.uuid4())
    session.add(
        AlertOutboxRecord(
            alert_id=alert_id,
            feedback_id=feedback.id,
            team=feedback.team or "",
            destination=PERSON_DESTINATION,
            kind=CLOSING_KIND,
            severity=feedback.severity,
            payload={
                "schema": CLOSING_SCHEMA,
                "id": alert_id,
                "feedback_id": feedback.id,
                "conversation_id": root.conversation_id,
                "channel": route.channel,
                "intent": RESOLVED_INTENT,
            },
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            created_at=now,
            sent_at=None,
        )
    )
    session.flush()
    return True


def store_inbox(route: Route, messages: list[OutboundMessage], *, services: Services) -> None:
    """Keep ``messages`` for the web page of ``route`` (collected by :func:`collect_inbox`)."""
    try:
        with services.sessions.begin() as session:
            session.add(
                WebInboxRecord(
                    conversation_id=route.address,
                    messages=messages,
                    created_at=services.clock(),
                    read_at=None,
                )
            )
    except SQLAlchemyError as exc:
        raise StorageError(f"the inbox could not be written: {exc.__class__.__name__}") from exc


def collect_inbox(
    conversation_id: str, *, services: Services | None = None
) -> list[OutboundMessage]:
    """The unread inbox messages of a web conversation, oldest first, marked read."""
    services = services or get_services()
    now = services.clock()
    with services.sessions.begin() as session:
        rows = list(
            session.scalars(
                select(WebInboxRecord)
                .where(
                    WebInboxRecord.conversation_id == conversation_id,
                    WebInboxRecord.read_at.is_(None),
                )
                .order_by(WebInboxRecord.id)
                .with_for_update(skip_locked=True)
            )
        )
        messages: list[OutboundMessage] = []
        for row in rows:
            row.read_at = now
            messages.extend(dict(m) for m in row.messages)
        return messages


class PersonDestination:
    """The worker's destination for ``closing`` rows (see the module docstring).

    Args:
        services: the services (database, to read the route).
        trigger: starts the intent in Rasa.
        sender: delivers to the person's channel.
    """

    def __init__(
        self, *, services: Services, trigger: IntentTrigger, sender: ChannelSender
    ) -> None:
        self.services = services
        self.trigger = trigger
        self.sender = sender

    def route(self, payload: dict[str, Any]) -> Route | None:
        """The consented route the payload's person can be reached on now."""
        with self.services.sessions() as session:
            row = _consented_route(
                session, str(payload.get("conversation_id", "")), payload.get("channel")
            )
            if row is None or row.address is None:
                return None
            return Route(
                conversation_id=row.conversation_id,
                audience=row.audience,
                channel=row.channel,
                address=row.address,
                language=row.language,
            )

    def deliver(self, alert: Alert) -> None:
        """Tell the person (raises ``DeliveryError`` to retry, permanent when hopeless)."""
        route = self.route(alert.payload)
        if route is None:
            raise PermanentDeliveryError("the person withdrew their consent or has no route")
        try:
            notify(
                route,
                str(alert.payload.get("intent") or RESOLVED_INTENT),
                trigger=self.trigger,
                sender=self.sender,
            )
        except PermanentOutboundError as exc:
            raise PermanentDeliveryError(str(exc)) from exc


InboxStore = Callable[[Route, list[OutboundMessage]], None]
