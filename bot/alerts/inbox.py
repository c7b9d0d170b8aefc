"""The team inbox: the open alerts a team works, most severe and newest first.

This module owns :func:`open_alerts`, what the dashboard's ``/dashboard/inbox`` lists for a
team that has no Telegram, Slack or e-mail destination (or a manager who wants the queue).
An item is a feedback whose issue was alerted (an ``issue`` row in the outbox, whatever
became of its delivery: a team with no destination has a ``dead`` row) and is not resolved,
owned by one of the teams asked for. It carries what the team's alert carries and no more:
the redacted excerpt (:func:`bot.privacy.redaction.stored_text`; none when the alert is
confidential), touchpoint, emotion, sentiment, severity, rating — never the person's id, so
an employee stays pseudonymous. Its age is read against the company's ``sla_hours`` for its
severity. Acting on an item goes through :func:`bot.alerts.workflow.apply`, which audits it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.alerts.payload import excerpt
from bot.domain import AlertKind, Kind, Severity
from bot.errors import StorageError
from bot.privacy.redaction import stored_text
from bot.services import Services, get_services
from bot.storage.models import (
    AlertEventRecord,
    AlertOutboxRecord,
    ContactRouteRecord,
    FeedbackRecord,
    IssueStatus,
)

SEVERITY_ORDER = (Severity.URGENT, Severity.HIGH, Severity.NORMAL, Severity.LOW)
DEFAULT_LIMIT = 50
"""Alerts on one page of the inbox (a page, not one endless list: it pages)."""


@dataclass(frozen=True)
class LastAction:
    """The latest workflow event of an alert (who did what, when)."""

    action: str
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class InboxItem:
    """One open alert as its team sees it (no person id).

    Attributes:
        feedback_id: the feedback (the alert's reference).
        audience: customer or employee.
        language: the language the person wrote in.
        created_at: when the feedback arrived.
        team: the owning team.
        touchpoint: the primary touchpoint (``None``: none detected).
        other_touchpoints: other touchpoints the message named.
        severity: low, normal, high or urgent.
        status: open or acknowledged.
        emotion: the main emotion group.
        sentiment: negative, neutral or positive.
        rating: the rating given, if any, and its scale.
        excerpt: the redacted text (``None``: confidential alert).
        age_hours: hours since it arrived.
        sla_hours: hours the team has to resolve it (``None``: no SLA).
        last_action: the latest workflow event, if any.
        followup: the person's answer to "what would have made it right?" (redacted; ``None``:
            none yet, or a confidential alert).
        consent: whether the person agreed to hear back when it is resolved (``None``: not
            asked, or no answer yet) — so the team knows before it acts.
    """

    feedback_id: int
    audience: str
    language: str
    created_at: datetime
    team: str
    touchpoint: str | None
    other_touchpoints: tuple[str, ...]
    severity: str
    status: str
    emotion: str
    sentiment: str
    rating: int | None
    scale: str | None
    excerpt: str | None
    age_hours: float
    sla_hours: float | None
    last_action: LastAction | None
    followup: str | None = None
    consent: bool | None = None

    @property
    def overdue(self) -> bool:
        """Whether it has been open longer than its SLA."""
        return self.sla_hours is not None and self.age_hours > self.sla_hours


@dataclass(frozen=True)
class Inbox:
    """A page of the inbox: the items shown and how many match in all."""

    items: tuple[InboxItem, ...]
    total: int


def _answers(
    session: Session, rows: list[FeedbackRecord]
) -> tuple[dict[int, FeedbackRecord], dict[str, bool]]:
    """The latest follow-up answer of each row, and each conversation's answer to "may we tell
    you when it is resolved?" (a yes on any channel wins; a no stands otherwise)."""
    if not rows:
        return {}, {}
    f = FeedbackRecord
    followups: dict[int, FeedbackRecord] = {}
    found = session.scalars(
        select(f)
        .where(f.parent_id.in_([r.id for r in rows]), f.kind == Kind.FOLLOWUP.value)
        .order_by(f.created_at, f.id)
    )
    for child in found:
        if child.parent_id is not None:  # always, by the query
            followups[child.parent_id] = child
    consents: dict[str, bool] = {}
    routes = session.scalars(
        select(ContactRouteRecord).where(
            ContactRouteRecord.conversation_id.in_({r.conversation_id for r in rows}),
            ContactRouteRecord.consent.is_not(None),
        )
    )
    for route in routes:
        consents[route.conversation_id] = consents.get(route.conversation_id, False) or bool(
            route.consent
        )
    return followups, consents


def open_alerts(
    *,
    teams: Collection[str] | None,
    status: IssueStatus | str | None = None,
    severity: Severity | str | None = None,
    overdue: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    services: Services | None = None,
) -> Inbox:
    """The open and acknowledged alerts of ``teams``, most severe first, then newest.

    Args:
        teams: the teams whose alerts are listed (``None``: every team).
        status: only ``open`` or only ``acknowledged`` ones (``None``: both).
        severity: only this severity (``None``: all).
        overdue: only the alerts open longer than their severity's SLA.
        limit: at most this many items (``total`` still counts them all).
        offset: skip this many (the pages after the first).
        services: dependencies (default: :func:`bot.services.get_services`).

    Raises:
        ValueError: ``status`` is ``resolved`` or unknown.
        StorageError: the database is unavailable.
    """
    services = services or get_services()
    statuses: tuple[str, ...] = (IssueStatus.OPEN.value, IssueStatus.ACKNOWLEDGED.value)
    if status is not None:
        wanted = IssueStatus(status)
        if wanted is IssueStatus.RESOLVED:
            raise ValueError("the inbox lists open and acknowledged alerts only")
        statuses = (wanted.value,)
    f = FeedbackRecord
    alerted = select(AlertOutboxRecord.feedback_id).where(AlertOutboxRecord.kind == AlertKind.ISSUE)
    where: list[ColumnElement[bool]] = [
        f.status.in_(statuses),
        f.team.is_not(None),
        f.id.in_(alerted),
    ]
    if teams is not None:
        if not teams:
            return Inbox((), 0)
        where.append(f.team.in_(list(teams)))
    if severity is not None:
        where.append(f.severity == Severity(severity).value)
    now = services.clock()
    if overdue:
        late = [
            and_(f.severity == level.value, f.created_at < now - timedelta(hours=sla))
            for level in Severity
            if (sla := services.company.sla(level.value)) is not None
        ]
        where.append(or_(*late) if late else false())
    rank = case(
        {severity.value: i for i, severity in enumerate(SEVERITY_ORDER)},
        value=f.severity,
        else_=len(SEVERITY_ORDER),
    )
    company = services.company
    try:
        with services.sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(f).where(*where)) or 0)
            rows = list(
                session.scalars(
                    select(f).where(*where).order_by(rank, f.created_at.desc(), f.id.desc())
                    .limit(max(1, limit)).offset(max(0, offset))
                )
            )  # fmt: skip
            last: dict[int, LastAction] = {}
            if rows:
                events = session.scalars(
                    select(AlertEventRecord)
                    .where(AlertEventRecord.feedback_id.in_([r.id for r in rows]))
                    .order_by(AlertEventRecord.created_at, AlertEventRecord.id)
                )
                for event in events:
                    last[event.feedback_id] = LastAction(
                        event.action, event.actor_name or event.actor_id, event.created_at
                    )
            followups, consents = _answers(session, rows)
            items = tuple(
                InboxItem(
                    feedback_id=row.id,
                    audience=row.audience,
                    language=row.language,
                    created_at=row.created_at,
                    team=str(row.team),
                    touchpoint=row.touchpoint,
                    other_touchpoints=tuple(
                        t for t in (row.touchpoints or []) if t != row.touchpoint
                    ),
                    severity=row.severity,
                    status=row.status,
                    emotion=row.emotion_label,
                    sentiment=row.sentiment_label,
                    rating=row.rating,
                    scale=row.scale,
                    excerpt=None
                    if row.confidential
                    else excerpt(stored_text(row, company=company), 600),
                    age_hours=max(0.0, (now - row.created_at).total_seconds() / 3600),
                    sla_hours=company.sla(row.severity),
                    last_action=last.get(row.id),
                    followup=None
                    if row.confidential or row.id not in followups
                    else excerpt(stored_text(followups[row.id], company=company), 600),
                    consent=consents.get(row.conversation_id),
                )
                for row in rows
            )
    except SQLAlchemyError as exc:
        raise StorageError(f"the inbox could not be read: {exc.__class__.__name__}") from exc
    return Inbox(items, total)
