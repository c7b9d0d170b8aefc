"""Escalation: urgent issues nobody acknowledged in time are sent to a fallback team, once.

This module owns :func:`escalate_due`, called by the worker at the start of every pass
(:func:`bot.alerts.worker.deliver_due`). With ``escalation`` configured in ``company.yml``
(``after_minutes``, ``severities``, fallback ``teams`` per audience), every feedback that

- is a root feedback (not a follow-up) of one of those severities,
- is still ``open`` (not acknowledged, not resolved) ``after_minutes`` after it arrived,
- has never been escalated (no ``alert_event`` ``escalated``),

gets, in one transaction, outbox rows for the fallback team (``kind`` ``escalated``: the
title says it was not acknowledged in time; same privacy as the first alert) and one
``alert_event`` ``escalated`` (actor channel ``worker``). The event is the "once" guard:
a later pass, or another worker, finds it and does nothing (on PostgreSQL the feedback row
is locked ``FOR UPDATE SKIP LOCKED`` while it is escalated).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, select

from bot.alerts.outbox import enqueue
from bot.services import Services
from bot.storage.models import AlertAction, AlertEventRecord, FeedbackRecord, IssueStatus

log = logging.getLogger(__name__)

ESCALATED_KIND = "escalated"


def escalate_due(services: Services, *, limit: int = 100) -> int:
    """Escalate every issue that is due (see the module docstring).

    Returns:
        How many issues were escalated in this call.
    """
    config = services.company.escalation
    if config is None or not config.teams:
        return 0
    now = services.clock()
    deadline = now - timedelta(minutes=config.after_minutes)
    already = exists().where(
        AlertEventRecord.feedback_id == FeedbackRecord.id,
        AlertEventRecord.action == AlertAction.ESCALATED.value,
    )
    statement = (
        select(FeedbackRecord)
        .where(
            FeedbackRecord.status == IssueStatus.OPEN.value,
            FeedbackRecord.parent_id.is_(None),
            FeedbackRecord.severity.in_([s.value for s in config.severities]),
            FeedbackRecord.created_at <= deadline,
            ~already,
        )
        .order_by(FeedbackRecord.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    escalated = 0
    with services.sessions.begin() as session:
        for row in session.scalars(statement):
            fallback = config.teams.get(row.audience)  # type: ignore[call-overload]
            if fallback is None or services.company.team(fallback) is None:
                continue
            enqueue(
                session, feedback=row, team=fallback, kind=ESCALATED_KIND, company=services.company,
                now=now,
            )  # fmt: skip
            session.add(
                AlertEventRecord(
                    feedback_id=row.id,
                    action=AlertAction.ESCALATED.value,
                    team=row.team,
                    to_team=fallback,
                    actor_channel="worker",
                    actor_id=None,
                    actor_name=None,
                    note=f"not acknowledged within {config.after_minutes:g} min",
                    created_at=now,
                )
            )
            escalated += 1
            log.info("feedback %s escalated to %s", row.id, fallback)
    return escalated
