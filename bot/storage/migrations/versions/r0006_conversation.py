"""The conversation a person actually has (issue 19): mixed messages, several touchpoints.

``feedback.mixed`` is true when a message praises one thing and reports a problem with
another (``bot.scoring.polarity``); ``feedback.touchpoints`` lists every touchpoint a message
names, the primary one (``feedback.touchpoint``) first, NULL when it names at most one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(
            sa.Column("mixed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("touchpoints", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("touchpoints")
        batch.drop_column("mixed")
