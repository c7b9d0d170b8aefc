"""Closed loop: how to reach a person back (``contact_route``) and the web chat inbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_route",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_route")),
        sa.UniqueConstraint(
            "conversation_id", "channel", name=op.f("uq_contact_route_conversation_id")
        ),
    )
    op.create_index(op.f("ix_contact_route_conversation_id"), "contact_route", ["conversation_id"])
    op.create_table(
        "web_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_inbox")),
    )
    op.create_index(op.f("ix_web_inbox_conversation_id"), "web_inbox", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_inbox_conversation_id"), table_name="web_inbox")
    op.drop_table("web_inbox")
    op.drop_index(op.f("ix_contact_route_conversation_id"), table_name="contact_route")
    op.drop_table("contact_route")
