"""Business events in: signature check, validation, the person, the ledger's decision.

This module owns what ``POST /api/v1/events`` does with a body, independent of HTTP:

- :func:`verify_signature`: ``X-Vecu-Signature: sha256=<hex>``, HMAC-SHA256 of the raw body
  with ``VECU_EVENTS_SECRET``, compared in constant time;
- :func:`parse_event`: the body as an :class:`EventIn` (or :class:`InvalidEvent` listing the
  problems in plain words);
- :func:`receive`: in one transaction, idempotent on ``event_id`` (the same event twice is
  stored once and answered ``duplicate``): resolves the person (:mod:`bot.privacy.persons`), stores
  the ``touchpoint_event``, asks the contact ledger (:mod:`bot.contact.ledger`) and records its
  decision; a sent or deferred solicitation waits in ``contact_outbox`` for the sender
  (:mod:`bot.contact.surveys`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.contact import ledger
from bot.errors import VecuError
from bot.i18n import supported_language
from bot.limits import MAX_JSON_DEPTH, TooDeep, load_json
from bot.privacy.persons import IdentityRef, resolve
from bot.privacy.pseudonyms import secret_key
from bot.services import Services, get_services
from bot.storage.models import (
    ContactDecisionRecord,
    ContactOutboxRecord,
    IdentityKind,
    TouchpointEventRecord,
)

SIGNATURE_HEADER = "X-Vecu-Signature"
SIGNATURE_PREFIX = "sha256="


class InvalidEvent(VecuError):
    """The event body cannot be used (each problem is in ``problems``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def sign(body: bytes, secret: str) -> str:
    """The ``X-Vecu-Signature`` value of ``body`` (what a business system sends)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the HMAC-SHA256 of ``body`` with ``secret`` (constant time).

    An empty secret accepts nothing.
    """
    if not secret or not header:
        return False
    given = header.strip()
    if not given.lower().startswith(SIGNATURE_PREFIX):
        return False
    expected = sign(body, secret)
    return hmac.compare_digest(
        given[len(SIGNATURE_PREFIX) :].lower().encode("ascii", "replace"),
        expected[len(SIGNATURE_PREFIX) :].encode("ascii"),
    )


class PersonIn(BaseModel):
    """Who the event is about: at least the business system's id."""

    model_config = ConfigDict(extra="ignore")

    external_id: str = Field(min_length=1, max_length=200)
    telegram_chat_id: int | str | None = None
    web_session: str | None = Field(default=None, min_length=1, max_length=200)
    language: str | None = None
    time_zone: str | None = None

    @field_validator("external_id", "web_session", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("telegram_chat_id")
    @classmethod
    def _chat_id(cls, value: int | str | None) -> int | str | None:
        if value is None:
            return None
        text = str(value).strip()
        if not text.lstrip("-").isdigit():
            raise ValueError("must be a Telegram chat id (an integer)")
        return text

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        short = supported_language(value)
        if short is None:
            raise ValueError("must be fr or en")
        return short

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as America/Toronto") from None
        return value


class EventIn(BaseModel):
    """The body of ``POST /api/v1/events``."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=128)
    person: PersonIn
    touchpoint: str = Field(min_length=1, max_length=64)
    kind: Literal["upcoming", "done"]
    occurred_at: AwareDatetime
    attributes: dict[str, Any] = Field(default_factory=dict)


def parse_event(raw: bytes, services: Services) -> EventIn:
    """Decode and validate a body; the touchpoint must exist in ``company.yml``.

    Raises:
        InvalidEvent: with one readable problem per field.
    """
    try:
        body = load_json(raw)
    except TooDeep:
        raise InvalidEvent([f"the body is nested deeper than {MAX_JSON_DEPTH} levels"]) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidEvent(["the body is not JSON"]) from None
    if not isinstance(body, dict):
        raise InvalidEvent(["the body must be a JSON object"])
    try:
        event = EventIn.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())) or "body"
            message = str(error.get("msg", "invalid"))
            if error.get("type") == "missing":
                message = "is required"
            elif error.get("type") == "timezone_aware":
                message = "needs a time zone offset (e.g. 2026-11-23T14:00:00-05:00)"
            problems.append(f"{where}: {message.removeprefix('Value error, ')}")
        raise InvalidEvent(problems) from None
    if services.company.touchpoint(event.touchpoint) is None:
        known = ", ".join(services.company.touchpoints)
        raise InvalidEvent([f"touchpoint: unknown {event.touchpoint!r} (known: {known})"])
    return event


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one event (the API's answer)."""

    event_id: str
    duplicate: bool
    person_id: str
    outcome: str | None
    reason: str | None
    detail: str | None
    not_before: datetime | None
    outbox_id: int | None

    def as_json(self) -> dict[str, Any]:
        """The JSON answer of the API."""
        return {
            "event_id": self.event_id,
            "status": "duplicate" if self.duplicate else "accepted",
            "duplicate": self.duplicate,
            "person_id": self.person_id,
            "decision": {
                "outcome": self.outcome,
                "reason": self.reason,
                "detail": self.detail,
                "not_before": self.not_before.isoformat() if self.not_before else None,
            },
        }


def _existing(session: Any, event_id: str) -> EventOutcome | None:
    row = session.scalars(
        select(TouchpointEventRecord).where(TouchpointEventRecord.event_id == event_id)
    ).first()
    if row is None:
        return None
    decision = session.scalars(
        select(ContactDecisionRecord)
        .where(ContactDecisionRecord.event_id == row.id)
        .order_by(ContactDecisionRecord.id)
        .limit(1)
    ).first()
    return EventOutcome(
        event_id=event_id,
        duplicate=True,
        person_id=row.person_id,
        outcome=decision.outcome if decision else None,
        reason=decision.reason if decision else None,
        detail=decision.detail if decision else None,
        not_before=decision.not_before if decision else None,
        outbox_id=None,
    )


def receive(event: EventIn, *, services: Services | None = None) -> EventOutcome:
    """Store ``event`` once, resolve its person and record the ledger's decision.

    Returns:
        The outcome; ``duplicate`` when ``event_id`` was already received (nothing new stored).
    """
    services = services or get_services()
    company = services.company
    touchpoint = company.touchpoint(event.touchpoint)
    assert touchpoint is not None  # parse_event checked it
    audience = touchpoint.audience
    secret = secret_key(services.settings)
    refs = [IdentityRef(IdentityKind.EXTERNAL, event.person.external_id, audience)]
    if event.person.telegram_chat_id is not None:
        chat = str(event.person.telegram_chat_id)
        refs.append(IdentityRef(IdentityKind.TELEGRAM, chat, audience))
    if event.person.web_session:
        refs.append(IdentityRef(IdentityKind.WEB, event.person.web_session, ""))
    purpose = ledger.Purpose.SURVEY if event.kind == "done" else ledger.Purpose.EXPECTATION
    try:
        with services.sessions.begin() as session:
            found = _existing(session, event.event_id)
            if found is not None:
                return found
            now = services.clock()
            person = resolve(
                session=session, identities=refs, audience=audience, secret=secret, now=now,
                language=event.person.language, time_zone=event.person.time_zone,
            )  # fmt: skip
            row = TouchpointEventRecord(
                event_id=event.event_id,
                person_id=person.id,
                touchpoint=event.touchpoint,
                kind=event.kind,
                occurred_at=event.occurred_at,
                received_at=now,
                attributes=dict(event.attributes),
            )
            session.add(row)
            session.flush()
            verdict = ledger.decide(
                session=session, person=person, purpose=purpose, touchpoint=event.touchpoint,
                audience=audience, policy=company.contact_policy, now=now,
            )  # fmt: skip
            decision = ledger.record(
                session=session, person=person, verdict=verdict, purpose=purpose,
                touchpoint=event.touchpoint, now=now, event_id=row.id,
                entities={"touchpoint": event.touchpoint},
            )  # fmt: skip
            outbox_id = session.scalars(
                select(ContactOutboxRecord.id).where(ContactOutboxRecord.decision_id == decision.id)
            ).first()
            return EventOutcome(
                event_id=event.event_id,
                duplicate=False,
                person_id=person.id,
                outcome=decision.outcome,
                reason=decision.reason,
                detail=decision.detail,
                not_before=decision.not_before,
                outbox_id=outbox_id,
            )
    except IntegrityError:
        # The same event_id arrived twice at once: the other request stored it.
        with services.sessions() as session:
            found = _existing(session, event.event_id)
        if found is None:
            raise
        return found
