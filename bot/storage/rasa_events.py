"""Rasa's copy of the conversations, when its SQL tracker store shares Vécu's database.

With several Rasa replicas (``make run-scaled``), Rasa keeps each conversation in its SQL
tracker store, the ``events`` table of Vécu's own PostgreSQL database (``endpoints.scaled.yml``),
so any replica can continue any conversation. Those rows hold what people wrote as they wrote
it (no redaction): the privacy functions of :mod:`bot.privacy.rights` cover them through this
module:

* :func:`purge_events`: the retention job deletes events older than
  ``privacy.conversation_days`` (a conversation needs only its current session: Rasa's sessions
  end after an hour of silence);
* :func:`erase_events`: erasure deletes every event of the person's conversations;
* :func:`export_events`: the right of access lists the person's messages and the assistant's
  replies as Rasa kept them.

Without the table (the embedded default keeps Rasa's tracker in memory) each function does
nothing. The table is Rasa's (``rasa.core.tracker_store.SQLTrackerStore``): Vécu never creates
or migrates it, and reads only its ``sender_id``, ``type_name``, ``timestamp`` and ``data``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

TABLE = "events"
"""The table of Rasa's SQL tracker store."""
SPOKEN = ("user", "bot")
"""The event types that carry words (exported)."""

_events = sa.table(
    TABLE,
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)


def present(session: Session) -> bool:
    """Whether Rasa's tracker store lives in this database."""
    return sa.inspect(session.connection()).has_table(TABLE)


def purge_events(*, session: Session, cutoff: datetime) -> int:
    """Delete the events older than ``cutoff``; how many."""
    if not present(session):
        return 0
    result = session.execute(sa.delete(_events).where(_events.c.timestamp < cutoff.timestamp()))
    return int(getattr(result, "rowcount", 0) or 0)


def erase_events(*, session: Session, conversation_ids: Sequence[str]) -> int:
    """Delete every event of these conversations; how many."""
    if not conversation_ids or not present(session):
        return 0
    result = session.execute(
        sa.delete(_events).where(_events.c.sender_id.in_(list(conversation_ids)))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def export_events(*, session: Session, conversation_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The messages and replies of these conversations, oldest first."""
    if not conversation_ids or not present(session):
        return []
    rows = session.execute(
        sa.select(_events.c.sender_id, _events.c.type_name, _events.c.timestamp, _events.c.data)
        .where(
            _events.c.sender_id.in_(list(conversation_ids)),
            _events.c.type_name.in_(SPOKEN),
        )
        .order_by(_events.c.timestamp, _events.c.id)
    )
    found = []
    for sender_id, type_name, timestamp, data in rows:
        try:
            text = json.loads(data or "{}").get("text")
        except (ValueError, AttributeError):
            text = None
        found.append(
            {
                "conversation_id": sender_id,
                "from": "person" if type_name == "user" else "assistant",
                "at": datetime.fromtimestamp(timestamp or 0, tz=UTC).isoformat(),
                "text": text,
            }
        )
    return found
