"""The conversation a person actually has (issue 19): mixed messages, several touchpoints.

``feedback.mixed`` is true when a message praises one thing and reports a problem with
another (``bot.scoring.polarity``); ``feedback.touchpoints`` lists every touchpoint a message
names, the primary one (``feedback.touchpoint``) first, NULL when it names at most one.
``declined_question`` records each question a person chose not to answer (no text).

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
    op.create_table(
        "declined_question",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=True),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_declined_question_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declined_question")),
    )
    for column in ("conversation_id", "question", "feedback_id", "created_at"):
        op.create_index(
            op.f(f"ix_declined_question_{column}"), "declined_question", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("declined_question")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("touchpoints")
        batch.drop_column("mixed")
