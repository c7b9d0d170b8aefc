"""One person model: a human (customer, employee or both) and their identities across channels.

This module owns the ``person`` and ``person_identity`` tables: resolving the person an event
or a conversation is about (creating it, linking new identities, merging two records that turn
out to be the same human), finding a person by id, identity or pseudonymous conversation id,
and gathering everything linked to a person (identities, consents, events, ledger decisions,
outbox rows, and feedback through the person's conversation ids).

Privacy: no name is ever stored. An identity keeps the raw channel id (needed to reach the
person) and the pseudonym (:func:`bot.privacy.pseudonyms.pseudonym`) Rasa and ``feedback`` know the
person by; the person view of an employee shows only pseudonyms. Functions take a SQLAlchemy
``Session`` by keyword and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.privacy.pseudonyms import is_pseudonym, pseudonym
from bot.storage.models import (
    ConsentRecord,
    ContactDecisionRecord,
    ContactOutboxRecord,
    FeedbackRecord,
    IdentityKind,
    PersonIdentityRecord,
    PersonKind,
    PersonRecord,
    TouchpointEventRecord,
)

CHANNEL_KINDS = (IdentityKind.TELEGRAM, IdentityKind.WEB)
"""Identities that are conversations (they carry a pseudonymous ``conversation_id``)."""


@dataclass(frozen=True)
class IdentityRef:
    """One identity as a caller names it.

    Attributes:
        kind: external, telegram or web.
        value: the raw id (Telegram chat id, web session id, business-system id).
        scope: the audience it belongs to (Telegram: the bot; external: the id namespace).
    """

    kind: IdentityKind
    value: str
    scope: str = ""

    def conversation_id(self, secret: str) -> str | None:
        """The pseudonym of a channel identity (``None`` for an external id)."""
        if self.kind == IdentityKind.EXTERNAL:
            return None
        return pseudonym(self.value, channel=self.kind.value, secret=secret)


@dataclass
class PersonLinks:
    """Everything linked to one person (what an export or an erasure must cover)."""

    person: PersonRecord
    identities: list[PersonIdentityRecord] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)
    events: list[TouchpointEventRecord] = field(default_factory=list)
    decisions: list[ContactDecisionRecord] = field(default_factory=list)
    outbox: list[ContactOutboxRecord] = field(default_factory=list)
    feedback: list[FeedbackRecord] = field(default_factory=list)

    @property
    def conversation_ids(self) -> list[str]:
        """The pseudonymous conversation ids of the person's channel identities."""
        return sorted({i.conversation_id for i in self.identities if i.conversation_id})


def new_person_id() -> str:
    """An opaque, random person id (32 hex characters)."""
    return uuid.uuid4().hex


def combine_kinds(current: str | None, audience: str) -> str:
    """A person's kind once they are seen as ``audience`` (customer + employee = both)."""
    if current in (None, "", audience):
        return audience
    return PersonKind.BOTH.value


def get_person(*, session: Session, person_id: str) -> PersonRecord | None:
    """The person ``person_id``, if any."""
    return session.get(PersonRecord, person_id)


def find_by_identity(
    *, session: Session, kind: str, value: str, scope: str | None = None
) -> PersonRecord | None:
    """The person holding the identity ``kind``/``value`` (any scope when ``scope`` is None)."""
    statement = select(PersonIdentityRecord.person_id).where(
        PersonIdentityRecord.kind == kind, PersonIdentityRecord.value == value
    )
    if scope is not None:
        statement = statement.where(PersonIdentityRecord.scope == scope)
    person_id = session.scalars(statement.limit(1)).first()
    return session.get(PersonRecord, person_id) if person_id else None


def find_by_conversation(*, session: Session, conversation_id: str) -> PersonRecord | None:
    """The person known in a conversation by the pseudonym ``conversation_id``."""
    person_id = session.scalars(
        select(PersonIdentityRecord.person_id)
        .where(PersonIdentityRecord.conversation_id == conversation_id)
        .limit(1)
    ).first()
    return session.get(PersonRecord, person_id) if person_id else None


def resolve_person_ref(*, session: Session, ref: str, secret: str) -> PersonRecord | None:
    """The person a CLI/API argument names.

    ``ref`` is a person id, a pseudonym (``p_…``), or ``external:<id>``,
    ``telegram:<chat id>``, ``web:<session id>``.
    """
    ref = ref.strip()
    if is_pseudonym(ref):
        return find_by_conversation(session=session, conversation_id=ref)
    kind, sep, value = ref.partition(":")
    if sep and kind in {k.value for k in IdentityKind} and value:
        found = find_by_identity(session=session, kind=kind, value=value)
        if found is None and kind != IdentityKind.EXTERNAL:
            conversation = pseudonym(value, channel=kind, secret=secret)
            found = find_by_conversation(session=session, conversation_id=conversation)
        return found
    return get_person(session=session, person_id=ref)


def conversation_ids(*, session: Session, person_id: str) -> list[str]:
    """The pseudonymous conversation ids of a person (to find their feedback)."""
    found = session.scalars(
        select(PersonIdentityRecord.conversation_id).where(
            PersonIdentityRecord.person_id == person_id,
            PersonIdentityRecord.conversation_id.is_not(None),
        )
    ).all()
    return sorted({c for c in found if c})


def feedback_of(*, session: Session, person_id: str) -> list[FeedbackRecord]:
    """The person's feedback rows (through their conversation ids), oldest first."""
    ids = conversation_ids(session=session, person_id=person_id)
    if not ids:
        return []
    return list(
        session.scalars(
            select(FeedbackRecord)
            .where(FeedbackRecord.conversation_id.in_(ids))
            .order_by(FeedbackRecord.created_at, FeedbackRecord.id)
        ).all()
    )


def linked(*, session: Session, person_id: str) -> PersonLinks | None:
    """Everything linked to the person ``person_id`` (``None`` when unknown)."""
    person = get_person(session=session, person_id=person_id)
    if person is None:
        return None

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.scalars(select(model).where(model.person_id == person_id).order_by(order))
        )

    return PersonLinks(
        person=person,
        identities=rows(PersonIdentityRecord, PersonIdentityRecord.id),
        consents=rows(ConsentRecord, ConsentRecord.purpose),
        events=rows(TouchpointEventRecord, TouchpointEventRecord.received_at),
        decisions=rows(ContactDecisionRecord, ContactDecisionRecord.id),
        outbox=rows(ContactOutboxRecord, ContactOutboxRecord.id),
        feedback=feedback_of(session=session, person_id=person_id),
    )


def delete_person(*, session: Session, person_id: str) -> bool:
    """Delete the person and what cascades from it (identities, consents, events, ledger).

    Feedback rows are not touched: erasing or anonymising them is a privacy decision
    (``bot.privacy.pseudonyms``'s rights functions), taken with :func:`feedback_of` before this
    call.
    """
    person = get_person(session=session, person_id=person_id)
    if person is None:
        return False
    models: tuple[Any, ...] = (
        ContactOutboxRecord,
        ContactDecisionRecord,
        TouchpointEventRecord,
        ConsentRecord,
        PersonIdentityRecord,
    )
    for model in models:
        for row in session.scalars(select(model).where(model.person_id == person_id)).all():
            session.delete(row)
    session.flush()
    session.delete(person)
    session.flush()
    return True


def _matches(
    session: Session, refs: Iterable[IdentityRef], secret: str
) -> list[PersonIdentityRecord]:
    conditions: list[ColumnElement[bool]] = []
    for ref in refs:
        conditions.append(
            (PersonIdentityRecord.kind == ref.kind.value)
            & (PersonIdentityRecord.scope == ref.scope)
            & (PersonIdentityRecord.value == ref.value)
        )
        conversation = ref.conversation_id(secret)
        if conversation is not None:
            conditions.append(PersonIdentityRecord.conversation_id == conversation)
    if not conditions:
        return []
    return list(
        session.scalars(
            select(PersonIdentityRecord)
            .where(or_(*conditions))
            .order_by(PersonIdentityRecord.created_at, PersonIdentityRecord.id)
        ).all()
    )


def merge(*, session: Session, into: PersonRecord, other: PersonRecord, now: datetime) -> None:
    """Fold ``other`` into ``into`` (the same human seen twice): rows move, consents combine.

    A consent refused by either record stays refused (an opt-out is never lost).
    """
    if into.id == other.id:
        return
    moved: tuple[Any, ...] = (
        PersonIdentityRecord,
        TouchpointEventRecord,
        ContactDecisionRecord,
        ContactOutboxRecord,
    )
    for model in moved:
        session.execute(update(model).where(model.person_id == other.id).values(person_id=into.id))
    mine = {c.purpose: c for c in session.scalars(
        select(ConsentRecord).where(ConsentRecord.person_id == into.id)
    )}  # fmt: skip
    for consent in session.scalars(
        select(ConsentRecord).where(ConsentRecord.person_id == other.id)
    ).all():
        kept = mine.get(consent.purpose)
        if kept is None:
            consent.person_id = into.id
            continue
        if not consent.granted and kept.granted:
            kept.granted, kept.source, kept.updated_at = False, consent.source, now
        session.delete(consent)
    into.kind = combine_kinds(into.kind, other.kind) if other.kind != "both" else "both"
    into.language = into.language or other.language
    into.time_zone = into.time_zone or other.time_zone
    into.updated_at = now
    session.flush()
    session.delete(other)
    session.flush()


def resolve(
    *,
    session: Session,
    identities: list[IdentityRef],
    audience: str,
    secret: str,
    now: datetime,
    language: str | None = None,
    time_zone: str | None = None,
) -> PersonRecord:
    """The person these identities belong to: found, merged, or created; identities linked.

    Args:
        session: the open session (flushed, not committed).
        identities: what the caller knows (at least one).
        audience: ``customer`` or ``employee`` (the kind becomes ``both`` when it differs).
        secret: the pseudonym key.
        now: the current time.
        language: the person's language, when the caller knows it (kept up to date).
        time_zone: the person's IANA time zone, when known.

    Raises:
        ValueError: no identity given.
    """
    if not identities:
        raise ValueError("at least one identity is needed to resolve a person")
    matches = _matches(session, identities, secret)
    person_ids: list[str] = []
    for match in matches:
        if match.person_id not in person_ids:
            person_ids.append(match.person_id)
    if person_ids:
        person = session.get(PersonRecord, person_ids[0])
        assert person is not None
        for other_id in person_ids[1:]:
            other = session.get(PersonRecord, other_id)
            if other is not None:
                merge(session=session, into=person, other=other, now=now)
        person.kind = combine_kinds(person.kind, audience)
    else:
        person = PersonRecord(id=new_person_id(), kind=audience, created_at=now, updated_at=now)
        session.add(person)
        session.flush()
    if language:
        person.language = language
    if time_zone:
        person.time_zone = time_zone
    person.updated_at = now
    known = {
        (i.kind, i.scope, i.value): i
        for i in session.scalars(
            select(PersonIdentityRecord).where(PersonIdentityRecord.person_id == person.id)
        ).all()
    }
    for ref in identities:
        row = known.get((ref.kind.value, ref.scope, ref.value))
        if row is None:
            row = PersonIdentityRecord(
                person_id=person.id,
                kind=ref.kind.value,
                scope=ref.scope,
                value=ref.value,
                conversation_id=ref.conversation_id(secret),
                created_at=now,
                last_seen_at=now,
            )
            session.add(row)
            known[(ref.kind.value, ref.scope, ref.value)] = row
        row.last_seen_at = now
    session.flush()
    return person


def ensure_for_conversation(
    *, session: Session, conversation_id: str, channel: str, audience: str, now: datetime
) -> PersonRecord:
    """The person of a conversation known only by its pseudonym (created if unknown).

    Used when someone writes before any business event named them (e.g. "stop"): the
    identity holds the pseudonym only; a later event naming the raw id links to it.
    """
    person = find_by_conversation(session=session, conversation_id=conversation_id)
    if person is not None:
        person.kind = combine_kinds(person.kind, audience)
        return person
    kind = channel if channel in {k.value for k in CHANNEL_KINDS} else IdentityKind.WEB.value
    person = PersonRecord(id=new_person_id(), kind=audience, created_at=now, updated_at=now)
    session.add(person)
    session.flush()
    session.add(
        PersonIdentityRecord(
            person_id=person.id,
            kind=kind,
            scope="pseudonym",
            value=conversation_id,
            conversation_id=conversation_id,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return person
