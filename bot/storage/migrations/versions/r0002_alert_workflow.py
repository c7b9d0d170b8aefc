"""Alert workflow: a feedback's status (open, acknowledged, resolved) and who did what, when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="open")
        )
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_feedback_status"), ["status"], unique=False)
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("to_team", sa.String(length=64), nullable=True),
        sa.Column("actor_channel", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=True),
        sa.Column("actor_name", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_alert_event_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    op.create_index(op.f("ix_alert_event_feedback_id"), "alert_event", ["feedback_id"])
    op.create_index(op.f("ix_alert_event_created_at"), "alert_event", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_event_created_at"), table_name="alert_event")
    op.drop_index(op.f("ix_alert_event_feedback_id"), table_name="alert_event")
    op.drop_table("alert_event")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_index(batch.f("ix_feedback_status"))
        batch.drop_column("resolved_at")
        batch.drop_column("acknowledged_at")
        batch.drop_column("status")
