"""Tests of bot/storage/migrate.py and the Alembic migrations (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.storage.engine import make_engine
from bot.storage.migrate import current_revision, downgrade, head_revision, upgrade
from bot.storage.models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() is not None
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_empties(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    tables = set(inspect(engine).get_table_names())
    assert not {"feedback", "routing_decision", "alert_outbox"} & tables
    assert current_revision(engine) is None
    upgrade(engine)
    assert {"feedback", "routing_decision", "alert_outbox"} <= set(
        inspect(engine).get_table_names()
    )


def test_a_new_sqlite_file_is_at_no_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(engine) is None
    engine.dispose()
