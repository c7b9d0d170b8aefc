"""The alert workflow: acknowledge, resolve, reassign and reopen a feedback's issue.

This module owns the state machine of ``feedback.status`` and its audit trail:

========================  ==============================  ==============================
action                    from                            to (and what else happens)
========================  ==============================  ==============================
acknowledge               open                            acknowledged (``acknowledged_at``)
resolve                   open, acknowledged              resolved (``resolved_at``; the
                                                          person is told if they agreed)
reassign (to a team)      open, acknowledged              open, ``team`` changed, new
                                                          outbox rows for the new team
reopen                    resolved                        open (``resolved_at`` cleared)
========================  ==============================  ==============================

Every applied action writes exactly one ``alert_event`` row with who did it (channel, id,
display name) and when, in the same transaction as the status change. Repeating an action
that is already in effect (Resolve pressed twice, reassigning to the current team) changes
nothing, writes nothing and answers ``changed=False`` with the event that put the issue in
that state, so a channel can say "already resolved by Alex at 14:02". A transition that
makes no sense (acknowledging a resolved issue) raises :class:`~bot.errors.WorkflowError`
with code ``invalid_transition``; an unknown feedback ``not_found``; an unknown team
``unknown_team``.

Callers: the Telegram team bot's buttons (:mod:`bot.channels.telegram.team`) and the API
(:mod:`bot.web.workflow_api`). Rows are locked ``FOR UPDATE`` where the database supports
it, so two people pressing at once yield one event and one "already".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.alerts.closing import enqueue_closing
from bot.alerts.outbox import enqueue
from bot.errors import StorageError, WorkflowError
from bot.services import Services, get_services
from bot.storage.models import AlertAction, AlertEventRecord, FeedbackRecord, IssueStatus

REASSIGNED_KIND = "reassigned"
"""The outbox ``kind`` of the alert a reassigned team receives."""


class Transition(StrEnum):
    """The actions a person can take on an issue."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REASSIGN = "reassign"
    REOPEN = "reopen"


_EVENT = {
    Transition.ACKNOWLEDGE: AlertAction.ACKNOWLEDGED,
    Transition.RESOLVE: AlertAction.RESOLVED,
    Transition.REASSIGN: AlertAction.REASSIGNED,
    Transition.REOPEN: AlertAction.REOPENED,
}


@dataclass(frozen=True)
class Actor:
    """Who acts: the channel they act from and how that channel knows them.

    Attributes:
        channel: ``telegram``, ``api``, ``worker``…
        id: the channel's id of the person (Telegram user id, API client name…), if any.
        name: a display name shown to the team (Telegram first name…), if any.
    """

    channel: str
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class EventView:
    """One ``alert_event`` row, detached from the session."""

    action: str
    team: str | None
    to_team: str | None
    actor_channel: str
    actor_id: str | None
    actor_name: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class WorkflowResult:
    """What an action did.

    Attributes:
        feedback_id: the feedback acted on.
        transition: the action asked for.
        changed: ``False`` when the action was already in effect (nothing written).
        status: the issue's status afterwards.
        team: the team owning the issue afterwards.
        previous_team: the team before (differs from ``team`` after a reassignment).
        acknowledged_at: when it was acknowledged (``None``: not yet).
        resolved_at: when it was resolved (``None``: not resolved).
        event: the event written, or (unchanged) the latest event of the same action.
        contacted: whether the person is being told (resolve with consent).
    """

    feedback_id: int
    transition: Transition
    changed: bool
    status: IssueStatus
    team: str | None
    previous_team: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    event: EventView | None
    contacted: bool = False


def _view(row: AlertEventRecord | None) -> EventView | None:
    if row is None:
        return None
    return EventView(
        action=row.action,
        team=row.team,
        to_team=row.to_team,
        actor_channel=row.actor_channel,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        note=row.note,
        created_at=row.created_at,
    )


def _latest_event(
    session: Session, feedback_id: int, action: AlertAction
) -> AlertEventRecord | None:
    return session.scalars(
        select(AlertEventRecord)
        .where(AlertEventRecord.feedback_id == feedback_id, AlertEventRecord.action == action.value)
        .order_by(AlertEventRecord.created_at.desc(), AlertEventRecord.id.desc())
        .limit(1)
    ).one_or_none()


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def apply(
    feedback_id: int,
    transition: Transition | str,
    actor: Actor,
    *,
    to_team: str | None = None,
    note: str | None = None,
    message: str | None = None,
    services: Services | None = None,
) -> WorkflowResult:
    """Apply ``transition`` to the issue of feedback ``feedback_id`` on behalf of ``actor``.

    Args:
        feedback_id: the feedback whose issue is acted on.
        transition: acknowledge, resolve, reassign or reopen.
        actor: who acts (stored on the event).
        to_team: the new team (reassign only).
        note: an optional free note stored on the event (for the team; never sent).
        message: resolve only: the team's closing words to the person, sent with the
            "it's resolved" message when they agreed to hear back (at most
            :data:`bot.alerts.closing.MAX_CLOSING_MESSAGE` characters; blank: none).
        services: dependencies (default: :func:`bot.services.get_services`).

    Returns:
        What happened (see :class:`WorkflowResult`).

    Raises:
        WorkflowError: unknown feedback, unknown team, or a transition that makes no sense
            from the current status.
        StorageError: the database refused the change.
    """
    services = services or get_services()
    try:
        action = Transition(transition)
    except ValueError:
        raise WorkflowError("invalid_transition", f"unknown action {transition!r}") from None
    company = services.company
    now = services.clock()
    try:
        with services.sessions.begin() as session:
            row = session.scalars(
                select(FeedbackRecord).where(FeedbackRecord.id == feedback_id).with_for_update()
            ).one_or_none()
            if row is None:
                raise WorkflowError("not_found", f"no feedback #{feedback_id}")
            status = IssueStatus(row.status)
            previous_team = row.team
            contacted = False

            def unchanged(event_action: AlertAction) -> WorkflowResult:
                return WorkflowResult(
                    feedback_id=row.id,
                    transition=action,
                    changed=False,
                    status=status,
                    team=row.team,
                    previous_team=previous_team,
                    acknowledged_at=row.acknowledged_at,
                    resolved_at=row.resolved_at,
                    event=_view(_latest_event(session, row.id, event_action)),
                )

            if action is Transition.ACKNOWLEDGE:
                if status is IssueStatus.ACKNOWLEDGED:
                    return unchanged(AlertAction.ACKNOWLEDGED)
                if status is IssueStatus.RESOLVED:
                    raise WorkflowError(
                        "invalid_transition",
                        f"feedback #{feedback_id} is already resolved: reopen it first",
                    )
                row.status = IssueStatus.ACKNOWLEDGED.value
                row.acknowledged_at = now
            elif action is Transition.RESOLVE:
                if status is IssueStatus.RESOLVED:
                    return unchanged(AlertAction.RESOLVED)
                row.status = IssueStatus.RESOLVED.value
                row.resolved_at = now
            elif action is Transition.REOPEN:
                if status is not IssueStatus.RESOLVED:
                    raise WorkflowError(
                        "invalid_transition",
                        f"feedback #{feedback_id} is not resolved ({status.value}): "
                        "nothing to reopen",
                    )
                row.status = IssueStatus.OPEN.value
                row.resolved_at = None
            else:  # reassign
                if not to_team or company.team(to_team) is None:
                    raise WorkflowError("unknown_team", f"unknown team {to_team!r}")
                if status is IssueStatus.RESOLVED:
                    raise WorkflowError(
                        "invalid_transition",
                        f"feedback #{feedback_id} is resolved: reopen it before reassigning",
                    )
                if to_team == row.team:
                    return unchanged(AlertAction.REASSIGNED)
                row.team = to_team
                row.status = IssueStatus.OPEN.value
                row.acknowledged_at = None
            row.updated_at = now
            event = AlertEventRecord(
                feedback_id=row.id,
                action=_EVENT[action].value,
                team=previous_team,
                to_team=to_team if action is Transition.REASSIGN else None,
                actor_channel=_clip(actor.channel, 16) or "unknown",
                actor_id=_clip(actor.id, 128),
                actor_name=_clip(actor.name, 128),
                note=note,
                created_at=now,
            )
            session.add(event)
            session.flush()
            if action is Transition.REASSIGN and to_team is not None:
                enqueue(
                    session,
                    feedback=row,
                    team=to_team,
                    kind=REASSIGNED_KIND,
                    company=company,
                    now=now,
                )
            if action is Transition.RESOLVE:
                contacted = enqueue_closing(
                    session, feedback=row, company=company, now=now, message=message
                )
            return WorkflowResult(
                feedback_id=row.id,
                transition=action,
                changed=True,
                status=IssueStatus(row.status),
                team=row.team,
                previous_team=previous_team,
                acknowledged_at=row.acknowledged_at,
                resolved_at=row.resolved_at,
                event=_view(event),
                contacted=contacted,
            )
    except SQLAlchemyError as exc:
        raise StorageError(
            f"the workflow change could not be stored: {exc.__class__.__name__}"
        ) from exc


def history(feedback_id: int, *, services: Services | None = None) -> list[EventView]:
    """The events of feedback ``feedback_id``, oldest first."""
    services = services or get_services()
    with services.sessions() as session:
        rows = session.scalars(
            select(AlertEventRecord)
            .where(AlertEventRecord.feedback_id == feedback_id)
            .order_by(AlertEventRecord.created_at, AlertEventRecord.id)
        )
        return [view for view in (_view(r) for r in rows) if view is not None]


@dataclass(frozen=True)
class IssueState:
    """Where a feedback's issue stands now."""

    feedback_id: int
    status: str
    team: str | None
    severity: str
    audience: str


def current(feedback_id: int, *, services: Services | None = None) -> IssueState:
    """The current status and team of feedback ``feedback_id``.

    Raises:
        WorkflowError: ``not_found``.
    """
    services = services or get_services()
    with services.sessions() as session:
        row = session.get(FeedbackRecord, feedback_id)
        if row is None:
            raise WorkflowError("not_found", f"no feedback #{feedback_id}")
        return IssueState(row.id, row.status, row.team, row.severity, row.audience)
