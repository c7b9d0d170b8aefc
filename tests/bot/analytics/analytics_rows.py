"""Row writer of the analytics tests (imported by their conftest and tests).

The metric tests need exact, hand-countable data (so many 4s and 5s, so many people in a
team and week), so they insert feedback rows directly with :class:`Rows` instead of going
through the model; the record → metrics path is tested in ``test_report.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.storage.models import AlertOutboxRecord, FeedbackRecord

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


class Rows:
    """Writes feedback rows with sensible defaults; each call may override any column."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.pending: list[dict[str, Any]] = []

    def add(
        self,
        *,
        who: str | None = None,
        audience: str = "customer",
        scale: str | None = "csat",
        rating: int | None = None,
        touchpoint: str | None = "delivery",
        week: int = 0,
        day: int = 0,
        text: str = "",
        emotion: str = "unknown",
        sentiment: str = "unknown",
        **columns: Any,
    ) -> None:
        self.count += 1
        at = MONDAY + timedelta(weeks=week, days=day)
        row = {
            "conversation_id": who or f"p_{self.count:032x}",
            "audience": audience,
            "channel": "web",
            "language": "fr",
            "kind": "comment",
            "touchpoint": touchpoint,
            "touchpoint_source": "nlu",
            "rating": rating,
            "scale": scale if rating is not None else None,
            "text": text,
            "original_length": len(text),
            "truncated": False,
            "sentiment_label": sentiment,
            "sentiment_scores": {},
            "emotion_label": emotion,
            "emotion_scores": {},
            "model_version": "test",
            "team": None,
            "severity": "low",
            "confidential": False,
            "negative": False,
            "created_at": at,
            "updated_at": at,
            "status": "open",
        }
        row.update(columns)
        self.pending.append(row)

    def ratings(self, values: list[int], **kw: Any) -> None:
        """One row per rating, each from a different person."""
        for value in values:
            self.add(rating=value, **kw)

    def flush(self) -> list[int]:
        """Write the pending rows; returns their ids."""
        ids = []
        with self.engine.begin() as conn:
            for row in self.pending:
                ids.append(
                    conn.execute(insert(FeedbackRecord).values(**row)).inserted_primary_key[0]
                )
        self.pending = []
        return ids

    def alert(self, feedback_id: int, at: datetime) -> None:
        """Give a feedback an alert outbox row."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(AlertOutboxRecord).values(
                    alert_id=f"a-{feedback_id}",
                    feedback_id=feedback_id,
                    team="logistics",
                    destination="d",
                    kind="issue",
                    severity="normal",
                    payload={},
                    status="sent",
                    attempts=1,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
