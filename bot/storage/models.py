"""The database schema as typed SQLAlchemy 2 models.

This module owns the three tables written together by :func:`bot.feedback.record`:

* ``feedback``: one received message (pseudonymous conversation id, audience, channel,
  language, kind, touchpoint, rating, text with explicit truncation, sentiment and emotion
  scores, model version, team, severity, timestamps);
* ``routing_decision``: why it went where it went (rule, reason), one row per decision
  (a later rating adds one);
* ``alert_outbox``: one row per team destination to notify, delivered by the worker;
* ``alert_event``: the alert workflow, who acknowledged, resolved, reassigned or escalated a
  feedback's issue and when (the feedback row carries the resulting ``status``).

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
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    # issue 5 (migration 0005): the team an employee works in (channel metadata), for analytics.
    member_team: Mapped[str | None] = mapped_column(String(64), index=True)

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
