"""Tests of bot/storage/engine.py and the models: SQLite settings, time zones, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.engine import make_engine, make_sessions
from bot.storage.migrate import upgrade
from bot.storage.models import FeedbackRecord, RoutingDecisionRecord


def test_sqlite_file_folder_is_created_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "var" / "vecu.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert path.exists()
    engine.dispose()


def feedback(now: datetime, **kw: object) -> FeedbackRecord:
    values: dict[str, object] = dict(
        conversation_id="p_x",
        audience="customer",
        channel="web",
        language="fr",
        kind="comment",
        touchpoint_source="none",
        text="t",
        original_length=1,
        truncated=False,
        sentiment_label="neutral",
        sentiment_scores={"neutral": 1.0},
        emotion_label="neutral",
        emotion_scores={"neutral": 1.0},
        model_version="m",
        severity="low",
        confidential=False,
        negative=False,
        created_at=now,
        updated_at=now,
    )
    values.update(kw)
    return FeedbackRecord(**values)


def test_times_come_back_as_utc(engine: Engine) -> None:
    sessions = make_sessions(engine)
    montreal = timezone(timedelta(hours=-5))
    local = datetime(2026, 11, 23, 7, 30, tzinfo=montreal)
    with sessions.begin() as session:
        session.add(feedback(local))
    with sessions() as session:
        row = session.query(FeedbackRecord).one()
        assert row.created_at == datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
        assert row.created_at.utcoffset() == timedelta(0)


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    sessions = make_sessions(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            RoutingDecisionRecord(
                feedback_id=999,
                touchpoint_source="none",
                severity="low",
                confidential=False,
                rule="r",
                reason="r",
                created_at=now,
            )
        )


def test_deleting_feedback_cascades(engine: Engine) -> None:
    sessions = make_sessions(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        row = feedback(now)
        session.add(row)
        session.flush()
        session.add(
            RoutingDecisionRecord(
                feedback_id=row.id,
                touchpoint_source="none",
                severity="low",
                confidential=False,
                rule="r",
                reason="r",
                created_at=now,
            )
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feedback"))
        assert conn.execute(text("SELECT count(*) FROM routing_decision")).scalar() == 0


def test_migrations_run_on_a_fresh_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///var/vecu.db")
    upgrade(engine)
    assert (tmp_path / "var" / "vecu.db").exists()
    engine.dispose()
