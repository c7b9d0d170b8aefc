"""Fixtures of the analytics tests: a row writer on the migrated database."""

from __future__ import annotations

import pytest
from analytics_rows import Rows
from sqlalchemy.engine import Engine


@pytest.fixture
def rows(engine: Engine) -> Rows:
    """A row writer on the migrated ``engine`` (SQLite, and PostgreSQL when running)."""
    return Rows(engine)
