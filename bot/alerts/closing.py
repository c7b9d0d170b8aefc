"""The closed loop: remember how to reach a person, ask them, tell them when it is resolved.

This module owns:

- :func:`save_route`: the channel that received a person writes (or refreshes) their
  ``contact_route`` (Telegram: private chat id and bot audience; web: the pseudonymous
  conversation id) and links them to the ledger's person (:func:`link_person`).
  :func:`set_consent` / :func:`answer_contact_question` store their answer to "may we tell
  you when it's resolved?" (``action_record_contact_consent``) on the routes and, as the
  consent for purpose ``followup``, in the contact ledger (:mod:`bot.ledger`, the one source
  of truth the API shows); a refusal erases the address. :func:`withdraw` is what an opt-out does
  here (routes refused, waiting closing messages stopped, with the reason).
- :func:`enqueue_closing`: called by :mod:`bot.alerts.workflow` when an issue is resolved,
  in the same transaction: when the person agreed, one ``alert_outbox`` row addressed to the
  reserved destination :data:`PERSON_DESTINATION` (``kind`` ``closing``), so the worker
  delivers it with the same retries as team alerts and nothing is lost while Rasa or
  Telegram is down. The row's payload names the feedback and the intent, never the address.
- :class:`PersonDestination`: the worker's destination for those rows: it reads the route
  at delivery time and asks the ledger again (consent for ``followup`` refused or an
  opt-out since → not sent, permanently, the reason on the row and in ``contact_decision``), then
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
ANSWERED_INTENT = "EXTERNAL_question_answered"
"""The trigger for a question (a severity rule with ``answer: true`` routed it): "answered"."""
CLOSING_SCHEMA = "vecu.closing/1"
WEB_CHANNEL = "web"
MESSAGE_ENTITY = "closing_message"
"""The entity that carries the team's closing words into Rasa (``action_issue_resolved``)."""
MAX_CLOSING_MESSAGE = 500
CONSENT_SOURCE = "contact_question"
"""The ledger source of a consent given in the flow (``action_record_contact_consent``)."""


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

    The person behind it is linked in the same transaction (:func:`link_person`), so the
    rights of access and erasure and the contact ledger know everyone who wrote.

    Raises:
        StorageError: the database refused the write.
    """
    services = services or get_services()
    now = services.clock()
    try:
        with services.sessions.begin() as session:
            link_person(
                session, conversation_id=conversation_id, audience=audience, channel=channel,
                address=address, language=language, services=services, now=now,
            )  # fmt: skip
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


def link_person(
    session: Session,
    *,
    conversation_id: str,
    audience: str,
    channel: str,
    address: str,
    language: str,
    services: Services,
    now: datetime,
) -> str:
    """The ledger's person of a conversation a channel received: found, linked or created.

    On Telegram the chat is a full identity of the person (:func:`bot.persons.resolve`: the
    raw chat id for the audience's bot, and the conversation's pseudonym), the same one a
    business event naming that chat links to; elsewhere the pseudonym alone
    (:func:`bot.persons.ensure_for_conversation`).

    Returns:
        The person's id.
    """
    from bot.persons import IdentityRef, ensure_for_conversation, resolve
    from bot.privacy import secret_key
    from bot.storage.models import IdentityKind

    if channel == IdentityKind.TELEGRAM.value and address:
        ref = IdentityRef(IdentityKind.TELEGRAM, address[:200], audience)
        secret = secret_key(services.settings)
        if ref.conversation_id(secret) == conversation_id:
            person = resolve(
                session=session, identities=[ref], audience=audience, secret=secret, now=now,
                language=language[:8] or None,
            )  # fmt: skip
            return person.id
    return ensure_for_conversation(
        session=session, conversation_id=conversation_id, channel=channel, audience=audience,
        now=now,
    ).id  # fmt: skip


def set_consent(
    conversation_id: str,
    consent: bool,
    *,
    channel: str | None = None,
    audience: str = "customer",
    language: str | None = None,
    services: Services | None = None,
) -> int:
    """Store the person's answer on every route of ``conversation_id`` and in the ledger.

    See :func:`answer_contact_question` (this returns how many routes were updated).

    Raises:
        StorageError: the database refused the write.
    """
    return _store_consent(
        conversation_id, consent, channel=channel, audience=audience, language=language,
        services=services,
    )[0]  # fmt: skip


def answer_contact_question(
    conversation_id: str,
    consent: bool,
    *,
    channel: str | None = None,
    audience: str = "customer",
    language: str | None = None,
    services: Services | None = None,
) -> bool:
    """Store the answer to "may we tell you when it's resolved?"; return what holds now.

    The answer is written twice, in one transaction, so the two never disagree: on the
    conversation's routes (the address book of the closed loop) and in the contact ledger
    as the consent for purpose ``followup`` of the person behind the conversation (created
    through :func:`bot.persons.ensure_for_conversation` when nobody knew them yet), which is
    what the person view and the API show and what :func:`enqueue_closing` and
    :class:`PersonDestination` ask. An opt-out ("stop") wins: a later "yes" does not lift
    it, the routes then record a refusal too.

    On the web channel the route is the pseudonymous conversation id itself (its page
    collects the inbox), so it is created here when missing. A refusal erases the stored
    addresses.

    Returns:
        Whether the person may now be told when their issue is resolved.

    Raises:
        StorageError: the database refused the write.
    """
    return _store_consent(
        conversation_id, consent, channel=channel, audience=audience, language=language,
        services=services,
    )[1]  # fmt: skip


def _store_consent(
    conversation_id: str,
    consent: bool,
    *,
    channel: str | None,
    audience: str,
    language: str | None,
    services: Services | None,
) -> tuple[int, bool]:
    from bot import ledger
    from bot.persons import ensure_for_conversation

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
            known_channel = channel or (rows[0].channel if rows else WEB_CHANNEL)
            person = ensure_for_conversation(
                session=session, conversation_id=conversation_id, channel=known_channel,
                audience=audience, now=now,
            )  # fmt: skip
            granted, source = ledger.consent_granted(
                session=session, person_id=person.id, purpose=ledger.ConsentPurpose.FOLLOWUP,
                policy=services.company.contact_policy,
            )  # fmt: skip
            opted_out = not granted and bool(source and source.startswith(ledger.OPT_OUT_SOURCE))
            effective = consent and not opted_out
            if not opted_out:
                ledger.set_consent(
                    session=session, person_id=person.id,
                    purpose=ledger.ConsentPurpose.FOLLOWUP, granted=consent,
                    source=f"{CONSENT_SOURCE}:{known_channel}", now=now,
                )  # fmt: skip
            for row in rows:
                row.consent = effective
                row.consent_at = now
                row.updated_at = now
                if language:
                    row.language = language[:8]
                if not effective:
                    row.address = None
            return len(rows), effective
    except SQLAlchemyError as exc:
        raise StorageError(f"the consent could not be stored: {exc.__class__.__name__}") from exc


def followup_refusal(
    session: Session, *, conversation_id: str, company: Company
) -> tuple[str, str] | None:
    """Why the ledger forbids closing the loop with this conversation's person, if it does.

    Returns:
        ``(reason, detail)`` (``opted_out`` or ``no_consent``, and the consent's source), or
        ``None`` when the ledger allows it (or knows no person for the conversation: the
        route's own consent then decides, as before the ledger existed).
    """
    from bot import ledger
    from bot.persons import find_by_conversation

    person = find_by_conversation(session=session, conversation_id=conversation_id)
    if person is None:
        return None
    granted, source = ledger.consent_granted(
        session=session, person_id=person.id, purpose=ledger.ConsentPurpose.FOLLOWUP,
        policy=company.contact_policy,
    )  # fmt: skip
    if granted:
        return None
    opted = bool(source and source.startswith(ledger.OPT_OUT_SOURCE))
    reason = ledger.Reason.OPTED_OUT if opted else ledger.Reason.NO_CONSENT
    return reason.value, f"consent for followup refused ({source})"


def withdraw(
    session: Session, *, conversation_ids: list[str], why: str, now: datetime
) -> tuple[int, int]:
    """An opt-out reaches the closed loop: routes refused, closing messages stopped.

    The routes of ``conversation_ids`` get ``consent`` false and lose their address; the
    closing messages still waiting for them in ``alert_outbox`` become ``dead`` with ``why``
    as their last error (flushed, not committed).

    Returns:
        How many routes and closing messages were changed.
    """
    if not conversation_ids:
        return 0, 0
    routes = list(
        session.scalars(
            select(ContactRouteRecord).where(
                ContactRouteRecord.conversation_id.in_(conversation_ids)
            )
        )
    )
    for route in routes:
        route.consent, route.address = False, None
        route.consent_at = route.updated_at = now
    wanted = set(conversation_ids)
    waiting = [
        row
        for row in session.scalars(
            select(AlertOutboxRecord).where(
                AlertOutboxRecord.kind == CLOSING_KIND,
                AlertOutboxRecord.status.in_(
                    [OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]
                ),
            )
        )
        if str((row.payload or {}).get("conversation_id")) in wanted
    ]
    for row in waiting:
        row.status = OutboxStatus.DEAD.value
        row.last_error = why[:500]
    session.flush()
    return len(routes), len(waiting)


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


def closing_message(message: str | None) -> str | None:
    """The team's closing words as sent: one paragraph, at most :data:`MAX_CLOSING_MESSAGE`."""
    if message is None:
        return None
    flat = " ".join(message.split())
    return flat[:MAX_CLOSING_MESSAGE] or None


def enqueue_closing(
    session: Session,
    *,
    feedback: FeedbackRecord,
    company: Company,
    now: datetime,
    message: str | None = None,
) -> bool:
    """Queue the "it's resolved" message to the person, if they agreed (flushed, not committed).

    ``message`` (the resolving team's own words, optional) travels in the row's payload and
    is said after ``utter_issue_resolved`` (``action_issue_resolved``).

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
    refusal = followup_refusal(session, conversation_id=root.conversation_id, company=company)
    if refusal is not None:
        _record_refusal(session, conversation_id=root.conversation_id, refusal=refusal, now=now)
        return False
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
                "intent": ANSWERED_INTENT
                if _is_question(session, feedback, company)
                else (RESOLVED_INTENT),
                **({"message": text} if (text := closing_message(message)) else {}),
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


def _is_question(session: Session, feedback: FeedbackRecord, company: Company) -> bool:
    """Whether a severity rule with ``answer: true`` (a question) routed ``feedback``."""
    from sqlalchemy import select

    from bot.storage.models import RoutingDecisionRecord

    answering = [rule.name for rule in company.severity_rules if rule.answer]
    if not answering:
        return False
    found = session.scalars(
        select(RoutingDecisionRecord.id).where(
            RoutingDecisionRecord.feedback_id == feedback.id,
            RoutingDecisionRecord.rule.in_(answering),
        )
    ).first()
    return found is not None


def _record_refusal(
    session: Session, *, conversation_id: str, refusal: tuple[str, str], now: datetime
) -> None:
    """Write the ledger's "not sent, and why" for a closing message (a suppressed decision)."""
    from bot import ledger
    from bot.persons import find_by_conversation
    from bot.storage.models import ContactDecisionRecord, ContactOutcome

    person = find_by_conversation(session=session, conversation_id=conversation_id)
    if person is None:
        return
    session.add(
        ContactDecisionRecord(
            person_id=person.id, event_id=None, purpose=ledger.ConsentPurpose.FOLLOWUP.value,
            touchpoint=None, outcome=ContactOutcome.SUPPRESSED.value, reason=refusal[0],
            detail=refusal[1], decided_at=now,
        )
    )  # fmt: skip
    session.flush()


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

    def refusal(self, payload: dict[str, Any]) -> tuple[str, str] | None:
        """Why the ledger forbids this closing message now (opt-out, refused consent)."""
        conversation_id = str(payload.get("conversation_id", ""))
        with self.services.sessions.begin() as session:
            refusal = followup_refusal(
                session, conversation_id=conversation_id, company=self.services.company
            )
            if refusal is not None:
                _record_refusal(
                    session, conversation_id=conversation_id, refusal=refusal,
                    now=self.services.clock(),
                )  # fmt: skip
            return refusal

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
        refusal = self.refusal(alert.payload)
        if refusal is not None:
            raise PermanentDeliveryError(f"{refusal[0]}: {refusal[1]}")
        route = self.route(alert.payload)
        if route is None:
            raise PermanentDeliveryError("the person withdrew their consent or has no route")
        try:
            message = alert.payload.get("message")  # as enqueue_closing stored it
            notify(
                route,
                str(alert.payload.get("intent") or RESOLVED_INTENT),
                trigger=self.trigger,
                sender=self.sender,
                entities={MESSAGE_ENTITY: message} if isinstance(message, str) else None,
            )
        except PermanentOutboundError as exc:
            raise PermanentDeliveryError(str(exc)) from exc


InboxStore = Callable[[Route, list[OutboundMessage]], None]
