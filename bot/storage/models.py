"""The database schema as typed SQLAlchemy 2 models.

This module owns the three tables written together by :func:`bot.feedback.intake.record`:

* ``feedback``: one received message (pseudonymous conversation id, audience, channel,
  language, kind, touchpoint, rating, text with explicit truncation, sentiment and emotion
  scores, model version, team, severity, timestamps);
* ``routing_decision``: why it went where it went (rule, reason), one row per decision
  (a later rating adds one);
* ``alert_outbox``: one row per team destination to notify, delivered by the worker;
* ``alert_event``: the alert workflow, who acknowledged, resolved, reassigned or escalated a
  feedback's issue and when (the feedback row carries the resulting ``status``);
* ``contact_route``: how to reach a person back on their channel, and their consent;
* ``web_inbox``: closed-loop messages waiting for a web chat page.
* issue 6, one person and one contact ledger: ``person`` (customer, employee or both; never
  a name), ``person_identity`` (Telegram chat ids, web sessions, business-system ids, each
  with the pseudonymous ``conversation_id`` that links the person to ``feedback`` rows),
  ``consent`` (per purpose), ``touchpoint_event`` (business events, unique ``event_id``),
  ``contact_decision`` (every sent/suppressed/deferred decision with its reason) and
  ``contact_outbox`` (solicitations waiting to be delivered by the worker).

The schema itself is created by the Alembic migrations in ``bot/storage/migrations``,
never by ``create_all`` in production; a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class IssueStatus(StrEnum):
    """Where a feedback's issue stands in the team's workflow."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertAction(StrEnum):
    """What happened to an alert (one ``alert_event`` row each)."""

    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    REOPENED = "reopened"


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"  # waiting for its first attempt
    FAILED = "failed"  # an attempt failed; retried at ``next_attempt_at``
    SENT = "sent"  # delivered
    DEAD = "dead"  # gave up (max attempts, or no destination): needs a human


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names in migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class FeedbackRecord(Base):
    """One received message, as stored."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("conversation_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), index=True
    )
    touchpoint: Mapped[str | None] = mapped_column(String(64), index=True)
    touchpoint_source: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    scale: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    original_length: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    sentiment_label: Mapped[str] = mapped_column(String(16))
    sentiment_scores: Mapped[dict[str, float]] = mapped_column(JSON)
    emotion_label: Mapped[str] = mapped_column(String(32))
    emotion_scores: Mapped[dict[str, float]] = mapped_column(JSON)
    raw_emotions: Mapped[dict[str, float] | None] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(128))
    team: Mapped[str | None] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    confidential: Mapped[bool] = mapped_column(Boolean)
    negative: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(16), index=True, default=IssueStatus.OPEN.value, server_default="open"
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # issue 6, privacy: ``text`` is redacted (``redacted`` true) unless redaction failed or the
    # row predates it; ``raw_text`` is the text as received, kept only with
    # ``privacy.keep_raw_text``.
    raw_text: Mapped[str | None] = mapped_column(Text)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # issue 5 (migration 0005): the team an employee works in (channel metadata), for analytics.
    member_team: Mapped[str | None] = mapped_column(String(64), index=True)
    # issue 19 (migration 0006): praise and a problem in one message; every touchpoint named
    # (the primary one first; NULL when the message names at most one).
    mixed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    touchpoints: Mapped[list[str] | None] = mapped_column(JSON)
    # issue 18 (migration 0007): the channel's id of the message these are the words of, unique
    # with the conversation, so a message recorded by the web app's fallback and then by a late
    # Rasa is stored once (NULL: not one message's own words; never deduplicated).
    message_id: Mapped[str | None] = mapped_column(String(64))
    # issue 19 (migration 0008): the NLU intent of the message, when the assistant read one
    # ("complain" makes it negative whatever the model read, even when a rating comes later)
    intent: Mapped[str | None] = mapped_column(String(32))

    decisions: Mapped[list[RoutingDecisionRecord]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", passive_deletes=True
    )
    alerts: Mapped[list[AlertOutboxRecord]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", passive_deletes=True
    )
    events: Mapped[list[AlertEventRecord]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", passive_deletes=True
    )


class RoutingDecisionRecord(Base):
    """Why a feedback went to a team with a severity (one row per decision)."""

    __tablename__ = "routing_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    touchpoint_source: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    confidential: Mapped[bool] = mapped_column(Boolean)
    alert_kind: Mapped[str | None] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    feedback: Mapped[FeedbackRecord] = relationship(back_populates="decisions")


class AlertOutboxRecord(Base):
    """One alert to deliver to one destination of one team."""

    __tablename__ = "alert_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(64), unique=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    team: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    feedback: Mapped[FeedbackRecord] = relationship(back_populates="alerts")


class AlertEventRecord(Base):
    """Who did what to a feedback's issue, and when (acknowledge, resolve, reassign…)."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    to_team: Mapped[str | None] = mapped_column(String(64))
    actor_channel: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(128))
    actor_name: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    feedback: Mapped[FeedbackRecord] = relationship(back_populates="events")


class ContactRouteRecord(Base):
    """How to reach the person behind a conversation again, and whether they agreed to it.

    One row per ``(conversation_id, channel)``, written by the channel that received the
    person (the Telegram gateway: the private chat id and the bot's audience; the web app:
    the pseudonymous conversation id, whose replies wait in ``web_inbox``). ``consent`` is
    ``None`` until asked, then the person's answer (``consent_at``: when). A refusal erases
    ``address``. Teams never see this table: it only serves the closed loop.
    """

    __tablename__ = "contact_route"
    __table_args__ = (UniqueConstraint("conversation_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- issue 6: one person, one contact ledger, touchpoint events -------------------------------


class PersonKind(StrEnum):
    """Whether a person is a customer, an employee, or both (the same human can be both)."""

    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    BOTH = "both"


class IdentityKind(StrEnum):
    """The kinds of identities linked to a person."""

    EXTERNAL = "external"  # an id from a business system (CRM, HRIS…), given in events
    TELEGRAM = "telegram"  # a Telegram private chat id (scope: the bot's audience)
    WEB = "web"  # a web chat session id


class ContactOutcome(StrEnum):
    """What the contact ledger decided about one solicitation."""

    SENT = "sent"
    SUPPRESSED = "suppressed"
    DEFERRED = "deferred"


class ContactStatus(StrEnum):
    """Where a ``contact_outbox`` row stands."""

    PENDING = "pending"  # waiting (due at ``next_attempt_at``)
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"  # delivered
    CANCELLED = "cancelled"  # re-checked before sending and suppressed by the ledger
    DEAD = "dead"  # gave up: needs a human


class PersonRecord(Base):
    """One human, customer or employee; never a name (employees are pseudonymous)."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebInboxRecord(Base):
    """Messages waiting for a web chat page (the closed loop's replies on the web channel)."""

    __tablename__ = "web_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeclinedQuestionRecord(Base):
    """A question the person chose not to answer ("non merci", "skip", "je sais pas").

    Holds no text: which question, where, when, about which touchpoint and, when known, the
    feedback it belongs to. Covered by the rights of access and erasure (by conversation)
    and by the retention job (issue 19, migration 0006).
    """

    __tablename__ = "declined_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(String(32), index=True)
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PersonIdentityRecord(Base):
    """One identity of a person on a channel or in a business system.

    ``value`` is the raw id (needed to reach the person); ``conversation_id`` is the
    pseudonym Rasa and ``feedback.conversation_id`` know the person by on that channel.
    """

    __tablename__ = "person_identity"
    __table_args__ = (UniqueConstraint("kind", "scope", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentRecord(Base):
    """A person's consent for one purpose (``surveys``, ``followup``); no row = policy default."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("person_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TouchpointEventRecord(Base):
    """A business event (``upcoming`` or ``done``) received on ``POST /api/v1/events``."""

    __tablename__ = "touchpoint_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    touchpoint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class ContactDecisionRecord(Base):
    """One decision of the contact ledger (sent, suppressed or deferred) and its reason."""

    __tablename__ = "contact_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint_event.id", ondelete="SET NULL"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ContactOutboxRecord(Base):
    """One solicitation to deliver (trigger an intent in the person's conversation)."""

    __tablename__ = "contact_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_decision.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint_event.id", ondelete="SET NULL")
    )
    purpose: Mapped[str] = mapped_column(String(16))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str] = mapped_column(String(64))
    entities: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latency_ms: Mapped[int | None] = mapped_column(Integer)


# --- issue 6, privacy: who read or changed personal data ----------------------------------------


class AuditAction(StrEnum):
    """What was done to a person's data (one ``privacy_audit`` row each)."""

    VIEW = "view"  # the person view was read
    EXPORT = "export"  # everything about the person was exported (right of access)
    ERASE = "erase"  # the person was erased (right to erasure)
    PURGE = "purge"  # the retention job removed or anonymised old data
    REDACT = "redact"  # stored texts were redacted after the fact


class ActorKind(StrEnum):
    """Who acted, by the door they came through."""

    API_TOKEN = "api_token"  # the JSON API (actor: a fingerprint of the token, never the token)
    CLI = "cli"  # the `vecu` command line (actor: the operating-system user)
    DASHBOARD = "dashboard"  # a dashboard user (actor: their login)
    SYSTEM = "system"  # the worker's scheduled jobs


class PrivacyAuditRecord(Base):
    """One read or change of personal data: who, through which door, what, about whom, when.

    ``person_id`` is not a foreign key: the row must outlive the person's erasure (it then
    points at nothing and reveals nothing but that an erasure happened).
    """

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class DashboardUserRecord(Base):
    """A person who may log in to the dashboard (created with ``vecu users add``).

    ``password_hash`` is a salted scrypt hash (:mod:`bot.web.dashboard.passwords`); ``teams``
    limits a manager to the touchpoints, alerts and employee groups of those teams (an admin
    sees everything). Sessions are signed cookies, not rows.
    """

    __tablename__ = "dashboard_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    teams: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---- issue 5 (analytics, migration 0005): covering indexes of the metric queries ----------------
# The dashboard aggregates with GROUP BY; these indexes hold every column those queries read, so
# SQLite and PostgreSQL answer from the index without reading the wide feedback rows.
Index(
    "ix_feedback_scores",
    FeedbackRecord.scale,
    FeedbackRecord.audience,
    FeedbackRecord.created_at,
    FeedbackRecord.touchpoint,
    FeedbackRecord.rating,
    FeedbackRecord.conversation_id,
    FeedbackRecord.member_team,
    FeedbackRecord.language,
    FeedbackRecord.channel,
)
Index(
    "ix_feedback_labels",
    FeedbackRecord.audience,
    FeedbackRecord.created_at,
    FeedbackRecord.touchpoint,
    FeedbackRecord.emotion_label,
    FeedbackRecord.sentiment_label,
    FeedbackRecord.conversation_id,
    FeedbackRecord.member_team,
    FeedbackRecord.scale,
    FeedbackRecord.language,
    FeedbackRecord.channel,
)
Index(
    "ix_feedback_alerts",
    FeedbackRecord.created_at,
    FeedbackRecord.team,
    FeedbackRecord.acknowledged_at,
    FeedbackRecord.resolved_at,
    FeedbackRecord.audience,
    FeedbackRecord.touchpoint,
    FeedbackRecord.language,
    FeedbackRecord.channel,
)
