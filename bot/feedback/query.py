"""Reading stored feedback back: one row as a :class:`FeedbackView` (redacted text, scores),
filtered pages for the API (:func:`query`) and a stream for exports (:func:`iter_feedback`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StorageError
from bot.privacy.redaction import stored_text
from bot.services import get_services
from bot.storage.models import FeedbackRecord

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class FeedbackView:
    """One stored feedback as the API and exports show it."""

    id: int
    conversation_id: str
    audience: str
    channel: str
    language: str
    kind: str
    touchpoint: str | None
    team: str | None
    severity: str
    rating: int | None
    scale: str | None
    text: str
    truncated: bool
    original_length: int
    sentiment_label: str
    sentiment_scores: dict[str, float]
    emotion_label: str
    emotion_scores: dict[str, float]
    model_version: str
    parent_id: int | None
    created_at: str  # ISO 8601, UTC
    touchpoints: list[str]  # every touchpoint named, the primary first (empty: none named)
    mixed: bool


def _view(row: Any, company: Any = None) -> FeedbackView:
    return FeedbackView(
        id=row.id,
        conversation_id=row.conversation_id,
        audience=row.audience,
        channel=row.channel,
        language=row.language,
        kind=row.kind,
        touchpoint=row.touchpoint,
        team=row.team,
        severity=row.severity,
        rating=row.rating,
        scale=row.scale,
        text=stored_text(row, company=company),
        truncated=row.truncated,
        original_length=row.original_length,
        sentiment_label=row.sentiment_label,
        sentiment_scores=dict(row.sentiment_scores or {}),
        emotion_label=row.emotion_label,
        emotion_scores=dict(row.emotion_scores or {}),
        model_version=row.model_version,
        parent_id=row.parent_id,
        created_at=row.created_at.isoformat(),
        touchpoints=list(row.touchpoints or ([row.touchpoint] if row.touchpoint else [])),
        mixed=bool(row.mixed),
    )


def _filtered(
    conversation_id: str | None,
    since: datetime | None,
    touchpoint: str | None,
    team: str | None,
) -> Any:

    statement = select(FeedbackRecord)
    if conversation_id is not None:
        statement = statement.where(FeedbackRecord.conversation_id == conversation_id)
    if since is not None:
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        statement = statement.where(FeedbackRecord.created_at >= since)
    if touchpoint is not None:
        statement = statement.where(FeedbackRecord.touchpoint == touchpoint)
    if team is not None:
        statement = statement.where(FeedbackRecord.team == team)
    return statement


MAX_QUERY_LIMIT = 1000


def query(
    *,
    conversation_id: str | None = None,
    since: datetime | None = None,
    touchpoint: str | None = None,
    team: str | None = None,
    limit: int = 100,
    services: Services | None = None,
) -> list[FeedbackView]:
    """Stored feedback, newest first, filtered (all filters combine with AND).

    Args:
        conversation_id: the stored (pseudonymous) conversation id.
        since: only feedback created at or after this time (naive times are UTC).
        touchpoint: only this touchpoint.
        team: only this team.
        limit: at most this many (clamped to 1..1000).
        services: dependencies (default: :func:`bot.services.get_services`).

    Raises:
        StorageError: the database cannot be read.
    """
    services = services or get_services()
    limit = max(1, min(int(limit), MAX_QUERY_LIMIT))
    statement = (
        _filtered(conversation_id, since, touchpoint, team)
        .order_by(FeedbackRecord.created_at.desc(), FeedbackRecord.id.desc())
        .limit(limit)
    )
    try:
        with services.sessions() as session:
            return [_view(row, services.company) for row in session.scalars(statement)]
    except SQLAlchemyError as exc:
        raise StorageError(f"the feedback could not be read: {exc.__class__.__name__}") from exc


def iter_feedback(
    *,
    since: datetime | None = None,
    touchpoint: str | None = None,
    team: str | None = None,
    batch_size: int = 500,
    services: Services | None = None,
) -> Iterator[FeedbackView]:
    """Every stored feedback, oldest first, streamed in batches (for exports).

    Raises:
        StorageError: the database cannot be read.
    """
    services = services or get_services()
    last_id = 0
    while True:
        statement = (
            _filtered(None, since, touchpoint, team)
            .where(FeedbackRecord.id > last_id)
            .order_by(FeedbackRecord.id)
            .limit(batch_size)
        )
        try:
            with services.sessions() as session:
                rows = [_view(row, services.company) for row in session.scalars(statement)]
        except SQLAlchemyError as exc:
            raise StorageError(f"the feedback could not be read: {exc.__class__.__name__}") from exc
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
