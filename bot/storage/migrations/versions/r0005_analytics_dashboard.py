"""Analytics and dashboard (issue 5): the employee's own team on feedback, an index on the scale.

``feedback.member_team`` is the team an employee works in (from the channel's metadata),
used for the EX ↔ CX correlation and the employee k-anonymity cells; NULL for customers.
``ix_feedback_scores`` and ``ix_feedback_labels`` cover the dashboard's GROUP BY queries (scores;
sentiment/emotion mixes and volumes), so they read the index, not the wide feedback rows;
``ix_feedback_alerts`` does the same for the alert times (alerted rows found through
``alert_outbox.feedback_id``).
``dashboard_user`` holds the dashboard's accounts (scrypt password hashes, role, teams).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # --- analytics (issue 5) ---
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("member_team", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_feedback_member_team"), ["member_team"], unique=False)
    op.create_index(
        "ix_feedback_scores",
        "feedback",
        [
            "scale",
            "audience",
            "created_at",
            "touchpoint",
            "rating",
            "conversation_id",
            "member_team",
            "language",
            "channel",
        ],
    )
    op.create_index(
        "ix_feedback_labels",
        "feedback",
        [
            "audience",
            "created_at",
            "touchpoint",
            "emotion_label",
            "sentiment_label",
            "conversation_id",
            "member_team",
            "scale",
            "language",
            "channel",
        ],
    )
    op.create_index(
        "ix_feedback_alerts",
        "feedback",
        [
            "created_at",
            "team",
            "acknowledged_at",
            "resolved_at",
            "audience",
            "touchpoint",
            "language",
            "channel",
        ],
    )
    # --- dashboard (issue 5): users, sessions… appended below by the dashboard helper ---
    # Dashboard accounts (bot/web/dashboard/users.py); sessions are signed cookies, no table.
    op.create_table(
        "dashboard_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_user")),
        sa.UniqueConstraint("email", name=op.f("uq_dashboard_user_email")),
    )


def downgrade() -> None:
    # --- dashboard (issue 5): reverse of the dashboard block, first ---
    op.drop_table("dashboard_user")
    # --- analytics (issue 5) ---
    op.drop_index("ix_feedback_alerts", table_name="feedback")
    op.drop_index("ix_feedback_labels", table_name="feedback")
    op.drop_index("ix_feedback_scores", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_index(batch.f("ix_feedback_member_team"))
        batch.drop_column("member_team")
