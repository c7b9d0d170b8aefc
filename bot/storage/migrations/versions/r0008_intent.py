"""The NLU intent of each message is kept (issue 19).

``feedback.intent`` is the intent the assistant read ("complain", "praise", "ask"…; NULL when
no assistant read the message: a rating alone, the web app's direct fallback, demo data). A
complaint is negative whatever the model's sentiment says
(``bot.feedback.routing.COMPLAINT_INTENTS``),
and a rating given later is routed again with it, so the complaint stays one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("intent", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("intent")
