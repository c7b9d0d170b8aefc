"""The membrane: one person, identities across channels, consent, events, contact ledger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _person_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["person.id"], name=op.f(f"fk_{table}_person_id_person"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "person_identity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        _when("created_at"),
        _when("last_seen_at"),
        _person_fk("person_identity"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identity")),
        sa.UniqueConstraint("kind", "scope", "value", name=op.f("uq_person_identity_kind")),
    )
    op.create_index(op.f("ix_person_identity_person_id"), "person_identity", ["person_id"])
    op.create_index(
        op.f("ix_person_identity_conversation_id"), "person_identity", ["conversation_id"]
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        _when("updated_at"),
        _person_fk("consent"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
        sa.UniqueConstraint("person_id", "purpose", name=op.f("uq_consent_person_id")),
    )
    op.create_index(op.f("ix_consent_person_id"), "consent", ["person_id"])
    op.create_table(
        "touchpoint_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _when("occurred_at"),
        _when("received_at"),
        sa.Column("attributes", sa.JSON(), nullable=False),
        _person_fk("touchpoint_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoint_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_touchpoint_event_event_id")),
    )
    op.create_index(op.f("ix_touchpoint_event_person_id"), "touchpoint_event", ["person_id"])
    op.create_index(op.f("ix_touchpoint_event_received_at"), "touchpoint_event", ["received_at"])
    op.create_table(
        "contact_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _when("not_before", nullable=True),
        _when("decided_at"),
        _person_fk("contact_decision"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["touchpoint_event.id"],
            name=op.f("fk_contact_decision_event_id_touchpoint_event"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_decision")),
    )
    op.create_index(op.f("ix_contact_decision_person_id"), "contact_decision", ["person_id"])
    op.create_index(op.f("ix_contact_decision_event_id"), "contact_decision", ["event_id"])
    op.create_index(op.f("ix_contact_decision_decided_at"), "contact_decision", ["decided_at"])
    op.create_table(
        "contact_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        _when("created_at"),
        _when("sent_at", nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        _person_fk("contact_outbox"),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["contact_decision.id"],
            name=op.f("fk_contact_outbox_decision_id_contact_decision"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["touchpoint_event.id"],
            name=op.f("fk_contact_outbox_event_id_touchpoint_event"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_outbox")),
    )
    op.create_index(op.f("ix_contact_outbox_person_id"), "contact_outbox", ["person_id"])
    op.create_index(op.f("ix_contact_outbox_status"), "contact_outbox", ["status"])
    op.create_index(
        op.f("ix_contact_outbox_next_attempt_at"), "contact_outbox", ["next_attempt_at"]
    )
    # --- privacy (issue 6): the privacy helper's tables go below this line ---
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _when("created_at"),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )
    op.create_index(op.f("ix_privacy_audit_created_at"), "privacy_audit", ["created_at"])
    op.create_index(op.f("ix_privacy_audit_person_id"), "privacy_audit", ["person_id"])
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("raw_text", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("redacted", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("redacted")
        batch.drop_column("raw_text")
    op.drop_index(op.f("ix_privacy_audit_person_id"), table_name="privacy_audit")
    op.drop_index(op.f("ix_privacy_audit_created_at"), table_name="privacy_audit")
    op.drop_table("privacy_audit")
    # --- privacy (issue 6): the privacy helper's drops go above my tables ---
    for table in ("contact_outbox", "contact_decision", "touchpoint_event", "consent"):
        op.drop_table(table)
    op.drop_table("person_identity")
    op.drop_table("person")
