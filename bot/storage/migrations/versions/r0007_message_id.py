"""Each message is stored once, whichever process records it (issue 18).

``feedback.message_id`` is the id the channel gave the message (the web chat's request id,
Telegram's message id), unique with the conversation: when the web app records a message
directly because Rasa was late, and Rasa then processes the same message, the second record
finds the first instead of storing it twice. NULL for records that are not one message's own
words (a rating alone, demo data): those are never deduplicated.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("message_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_feedback_conversation_id"), ["conversation_id", "message_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_constraint(op.f("uq_feedback_conversation_id"), type_="unique")
        batch.drop_column("message_id")
