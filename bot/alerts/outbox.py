"""The alert outbox: alerts are written with the feedback, delivered later by the worker.

This module owns :func:`enqueue` (one ``alert_outbox`` row per destination of the team,
in the caller's transaction) and the queries the worker and operators use (:func:`due`,
:func:`requeue_dead`, :func:`counts`). A team with no destination still gets a row, marked
``dead`` with the error "no destination", so an alert never disappears silently and can be
re-queued once a destination is configured.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.alerts.payload import build_payload
from bot.company import Company, destination_name
from bot.domain import NO_DESTINATION, PERSON_DESTINATION
from bot.storage.models import AlertOutboxRecord, FeedbackRecord, OutboxStatus


def enqueue(
    session: Session,
    *,
    feedback: FeedbackRecord,
    team: str,
    kind: str,
    company: Company,
    now: datetime,
) -> list[AlertOutboxRecord]:
    """Add the outbox rows telling ``team`` about ``feedback`` (flushed, not committed).

    Returns:
        The new rows (one per destination; one ``dead`` row when the team has none).
    """
    team_conf = company.team(team)
    targets = (
        [destination_name(d, i) for i, d in enumerate(team_conf.destinations)] if team_conf else []
    )
    rows: list[AlertOutboxRecord] = []
    for target in targets or [NO_DESTINATION]:
        alert_id = str(uuid.uuid4())
        row = AlertOutboxRecord(
            alert_id=alert_id,
            feedback_id=feedback.id,
            team=team,
            destination=target,
            kind=kind,
            severity=feedback.severity,
            payload=build_payload(
                alert_id=alert_id, kind=kind, feedback=feedback, team=team, company=company
            ),
            status=OutboxStatus.PENDING.value if targets else OutboxStatus.DEAD.value,
            attempts=0,
            next_attempt_at=now,
            last_error=None if targets else f"no destination configured for team {team!r}",
            created_at=now,
            sent_at=None,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def due(session: Session, *, now: datetime, limit: int = 50) -> list[AlertOutboxRecord]:
    """Rows to attempt now (pending or failed, due), oldest first, locked where supported.

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` so several workers never
    deliver the same row at once; SQLite serialises writers anyway.
    """
    statement = (
        select(AlertOutboxRecord)
        .where(
            or_(
                AlertOutboxRecord.status == OutboxStatus.PENDING.value,
                AlertOutboxRecord.status == OutboxStatus.FAILED.value,
            ),
            AlertOutboxRecord.next_attempt_at <= now,
        )
        .order_by(AlertOutboxRecord.next_attempt_at, AlertOutboxRecord.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def requeue_dead(
    session: Session, *, company: Company, now: datetime, team: str | None = None
) -> int:
    """Put ``dead`` rows back in the queue (e.g. after fixing or adding a destination).

    A row whose destination still exists is reset (attempts 0, due now, same idempotency
    key). A row whose destination is gone (or that never had one) is re-addressed to the
    team's current destinations (the first keeps the row's key, the others get new rows);
    it stays dead when the team still has none.

    Returns:
        How many rows are queued again (new rows included).
    """
    statement = select(AlertOutboxRecord).where(AlertOutboxRecord.status == OutboxStatus.DEAD.value)
    if team is not None:
        statement = statement.where(AlertOutboxRecord.team == team)
    queued = 0
    for row in session.scalars(statement.order_by(AlertOutboxRecord.id)):
        team_conf = company.team(row.team)
        targets = (
            [destination_name(d, i) for i, d in enumerate(team_conf.destinations)]
            if team_conf
            else []
        )
        if row.destination == PERSON_DESTINATION:
            targets = [PERSON_DESTINATION]  # a message to a person never goes to a team
        if row.destination not in targets:
            if not targets:
                continue
            for extra in targets[1:]:
                alert_id = str(uuid.uuid4())
                session.add(
                    AlertOutboxRecord(
                        alert_id=alert_id,
                        feedback_id=row.feedback_id,
                        team=row.team,
                        destination=extra,
                        kind=row.kind,
                        severity=row.severity,
                        payload={**row.payload, "id": alert_id},
                        status=OutboxStatus.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        last_error=None,
                        created_at=now,
                        sent_at=None,
                    )
                )
                queued += 1
            row.destination = targets[0]
        row.status = OutboxStatus.PENDING.value
        row.attempts = 0
        row.next_attempt_at = now
        queued += 1
    session.flush()
    return queued


def counts(session: Session) -> dict[tuple[str, str], int]:
    """How many outbox rows per ``(team, status)``."""
    statement = select(
        AlertOutboxRecord.team, AlertOutboxRecord.status, func.count(AlertOutboxRecord.id)
    ).group_by(AlertOutboxRecord.team, AlertOutboxRecord.status)
    return {(team, status): int(n) for team, status, n in session.execute(statement)}
