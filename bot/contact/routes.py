"""Contact routes: how to reach a person again, and whether they agreed to hear back.

- :func:`save_route`: the channel that received a person writes (or refreshes) their
  ``contact_route`` (Telegram: private chat id and bot audience; web: the pseudonymous
  conversation id) and links them to the ledger's person (:func:`link_person`).
- :func:`set_consent` / :func:`answer_contact_question` store their answer to "may we tell
  you when it's resolved?" on the routes and, as the consent for purpose ``followup``, in the
  contact ledger (:mod:`bot.contact.ledger`, the one source of truth the API shows); a refusal
  erases the address. :func:`withdraw` is what an opt-out does here (routes refused, waiting
  closing messages stopped, with the reason).
- :func:`store_inbox` / :func:`collect_inbox`: the web chat inbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.company import Company
from bot.contact import ledger
from bot.contact.outbound import (
    OutboundMessage,
    Route,
)
from bot.domain import AlertKind
from bot.errors import StorageError
from bot.privacy.persons import (
    IdentityRef,
    conversation_ids,
    ensure_for_conversation,
    find_by_conversation,
    resolve,
)
from bot.privacy.pseudonyms import secret_key
from bot.services import Services, get_services
from bot.storage.models import (
    AlertOutboxRecord,
    ContactDecisionRecord,
    ContactOutboxRecord,
    ContactOutcome,
    ContactRouteRecord,
    ContactStatus,
    IdentityKind,
    OutboxStatus,
    WebInboxRecord,
)

WEB_CHANNEL = "web"


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

    On Telegram the chat is a full identity of the person (:func:`bot.privacy.persons.resolve`: the
    raw chat id for the audience's bot, and the conversation's pseudonym), the same one a
    business event naming that chat links to; elsewhere the pseudonym alone
    (:func:`bot.privacy.persons.ensure_for_conversation`).

    Returns:
        The person's id.
    """
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
    through :func:`bot.privacy.persons.ensure_for_conversation` when nobody knew them yet), which is
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
                AlertOutboxRecord.kind == AlertKind.CLOSING,
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


def opt_out(*, session: Session, person_id: str, source: str, now: datetime) -> int:
    """Refuse every purpose for the person and cancel what waits for them in the outbox.

    The closed loop hears it too (:func:`bot.contact.routes.withdraw`): the routes of the
    person's conversations are refused and lose their address, and a closing message still
    waiting for them is stopped, with the opt-out as its reason.

    Args:
        source: where the opt-out came from (``opt_out:telegram``, ``api``…).

    Returns:
        How many waiting solicitations were cancelled (each gets a suppressed decision).
    """
    for purpose in ledger.ConsentPurpose:
        ledger.set_consent(
            session=session, person_id=person_id, purpose=purpose, granted=False,
            source=source, now=now,
        )  # fmt: skip
    waiting = session.scalars(
        select(ContactOutboxRecord).where(
            ContactOutboxRecord.person_id == person_id,
            ContactOutboxRecord.status == ContactStatus.PENDING.value,
        )
    ).all()
    for row in waiting:
        row.status = ContactStatus.CANCELLED.value
        row.last_error = "opted out"
        session.add(
            ContactDecisionRecord(
                person_id=person_id, event_id=row.event_id, purpose=row.purpose,
                touchpoint=row.touchpoint, outcome=ContactOutcome.SUPPRESSED.value,
                reason=ledger.Reason.OPTED_OUT.value, detail=f"opted out ({source})",
                decided_at=now,
            )
        )  # fmt: skip
    session.flush()

    withdraw(
        session,
        conversation_ids=conversation_ids(session=session, person_id=person_id),
        why=f"{ledger.Reason.OPTED_OUT.value}: opted out ({source})",
        now=now,
    )
    return len(waiting)


def opt_out_conversation(
    conversation_id: str, *, channel: str, audience: str, services: Services | None = None
) -> str:
    """Record an opt-out said in a conversation, for every channel of that person.

    The person is found by the conversation's pseudonym (created when nobody knew them yet,
    so the refusal also holds for events that name them later).

    Returns:
        The person's id.

    Raises:
        StorageError: the database refused it.
    """
    services = services or get_services()
    try:
        with services.sessions.begin() as session:
            now = services.clock()
            person = ensure_for_conversation(
                session=session, conversation_id=conversation_id, channel=channel,
                audience=audience, now=now,
            )  # fmt: skip
            source = f"{ledger.OPT_OUT_SOURCE}:{channel}"
            opt_out(session=session, person_id=person.id, source=source,
                    now=now)  # fmt: skip
            return person.id
    except SQLAlchemyError as exc:
        raise StorageError(f"the opt-out could not be stored: {type(exc).__name__}") from exc
