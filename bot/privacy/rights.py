"""Rights and retention (Loi 25 / GDPR): access, erasure, purge by age, and the audit log.

This module owns what happens to a person's data when they use their rights or when it
grows old, and the ``privacy_audit`` log of who read or changed personal data:

* :func:`export_person`: everything Vécu holds about one person (right of access), as one
  JSON-serialisable document: the person, their identities, consents, business events,
  contact-ledger decisions and outbox rows, their feedback (with the raw text when
  ``privacy.keep_raw_text`` kept it) and the alerts about it, the closed loop's address
  book of their conversations (``contact_route``: Telegram chat ids, consent) and the
  messages waiting for their web chat page (``web_inbox``), the conversation as Rasa's
  SQL tracker store keeps it when it shares the database (``conversation``,
  :mod:`bot.storage.rasa_events`), and the audit history of their data. Writes an
  ``export`` audit row.
* :func:`erase_person`: deletes the person, their identities, consents, events and ledger
  rows (:func:`bot.privacy.persons.delete_person`), the ``contact_route`` and ``web_inbox`` rows and
  Rasa's events of their conversations, and **anonymises** their feedback: no text, no
  conversation id (the shared value :data:`ANONYMOUS`), no parent link, times cut to the
  day, and the routing decisions, alerts (closing messages included) and alert events
  about it deleted (an alert event's actor is a team member, but its note is free text
  about the person); what is left
  only counts in aggregates (touchpoint, team, scores, rating, day). Writes an ``erase``
  audit row, which names no one but the now meaningless person id.
* :func:`purge`: the retention job (``vecu privacy purge``, and the worker once a day,
  :func:`run_retention`): feedback older than ``privacy.retention_days`` is anonymised (or
  deleted, ``retention_action: delete``); older business events, contact decisions and
  finished outbox rows are deleted, so are contact routes not refreshed since and web inbox
  messages older than that, and persons not seen since are deleted; Rasa's events (raw
  text) go after ``privacy.conversation_days``. It also
  redacts any stored text not redacted yet (rows from before redaction existed).
* :func:`audit`: one audit row (who: :class:`Actor`, through the API token, the CLI, the
  dashboard or the system; what; about whom; when). Person views call it too.

Functions take a SQLAlchemy ``Session`` by keyword and never commit: the caller owns the
transaction, so the audit row is written in the same transaction as the change it records.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.privacy.persons import conversation_ids, delete_person, linked
from bot.privacy.redaction import redact
from bot.storage import rasa_events
from bot.storage.models import (
    ActorKind,
    AlertEventRecord,
    AlertOutboxRecord,
    AuditAction,
    ContactDecisionRecord,
    ContactOutboxRecord,
    ContactRouteRecord,
    DeclinedQuestionRecord,
    FeedbackRecord,
    PersonIdentityRecord,
    PersonRecord,
    PrivacyAuditRecord,
    RoutingDecisionRecord,
    TouchpointEventRecord,
    WebInboxRecord,
)

if TYPE_CHECKING:
    from bot.company import Company
    from bot.services import Services

log = logging.getLogger(__name__)

ANONYMOUS = "anonymised"
"""The conversation id of anonymised feedback: the same for all, so it links nothing."""
EXPORT_SCHEMA = "vecu.person-export/1"
RETENTION_INTERVAL_S = 24 * 3600.0
"""How often the worker runs :func:`purge`."""
FINISHED_OUTBOX = ("sent", "cancelled", "dead", "failed")


@dataclass(frozen=True)
class Actor:
    """Who reads or changes personal data.

    Attributes:
        kind: the door they came through.
        name: who, for that door: a token fingerprint, an operating-system user, a login.
    """

    kind: ActorKind
    name: str

    @classmethod
    def cli(cls) -> Actor:
        """The operator running ``vecu`` (their operating-system user)."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(ActorKind.CLI, user[:128])

    @classmethod
    def token(cls, token: str) -> Actor:
        """A caller of the JSON API, named by a fingerprint of its token (never the token)."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]
        return cls(ActorKind.API_TOKEN, f"token:{digest}")

    @classmethod
    def dashboard(cls, login: str) -> Actor:
        """A dashboard user."""
        return cls(ActorKind.DASHBOARD, login[:128])

    @classmethod
    def system(cls, job: str) -> Actor:
        """A scheduled job of the worker."""
        return cls(ActorKind.SYSTEM, job[:128])


def audit(
    *,
    session: Session,
    actor: Actor,
    action: AuditAction,
    person_id: str | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> PrivacyAuditRecord:
    """Record that ``actor`` did ``action`` to ``person_id``'s data (no commit).

    ``detail`` must not hold personal data (counts, the route, the format…).
    """
    row = PrivacyAuditRecord(
        created_at=now,
        actor_kind=actor.kind.value,
        actor=actor.name,
        action=action.value,
        person_id=person_id,
        detail=dict(detail or {}),
    )
    session.add(row)
    session.flush()
    return row


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _columns(row: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every column of ``row`` as JSON-ready values."""
    skipped = set(skip)
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in skipped:
            continue
        value = getattr(row, column.key)
        out[column.key] = _iso(value) if isinstance(value, datetime) else value
    return out


# ---- right of access ----------------------------------------------------------------------------


def export_person(
    *, session: Session, person_id: str, actor: Actor, now: datetime
) -> dict[str, Any] | None:
    """Everything Vécu holds about ``person_id`` (``None`` when unknown); audited.

    The feedback text is the raw text when it was kept (``privacy.keep_raw_text``), else the
    stored, redacted one: it is the person's own data.
    """
    links = linked(session=session, person_id=person_id)
    if links is None:
        return None
    feedback_ids = [row.id for row in links.feedback]
    alerts: list[AlertOutboxRecord] = []
    alert_events: list[AlertEventRecord] = []
    decisions: list[RoutingDecisionRecord] = []
    if feedback_ids:
        alerts = list(
            session.scalars(
                select(AlertOutboxRecord)
                .where(AlertOutboxRecord.feedback_id.in_(feedback_ids))
                .order_by(AlertOutboxRecord.id)
            )
        )
        alert_events = list(
            session.scalars(
                select(AlertEventRecord)
                .where(AlertEventRecord.feedback_id.in_(feedback_ids))
                .order_by(AlertEventRecord.id)
            )
        )
        decisions = list(
            session.scalars(
                select(RoutingDecisionRecord)
                .where(RoutingDecisionRecord.feedback_id.in_(feedback_ids))
                .order_by(RoutingDecisionRecord.id)
            )
        )
    history = list(
        session.scalars(
            select(PrivacyAuditRecord)
            .where(PrivacyAuditRecord.person_id == person_id)
            .order_by(PrivacyAuditRecord.id)
        )
    )
    conversations = links.conversation_ids
    routes: list[ContactRouteRecord] = []
    inbox: list[WebInboxRecord] = []
    declined: list[DeclinedQuestionRecord] = []
    if conversations:
        routes = list(
            session.scalars(
                select(ContactRouteRecord)
                .where(ContactRouteRecord.conversation_id.in_(conversations))
                .order_by(ContactRouteRecord.id)
            )
        )
        inbox = list(
            session.scalars(
                select(WebInboxRecord)
                .where(WebInboxRecord.conversation_id.in_(conversations))
                .order_by(WebInboxRecord.id)
            )
        )
        declined = list(
            session.scalars(
                select(DeclinedQuestionRecord)
                .where(DeclinedQuestionRecord.conversation_id.in_(conversations))
                .order_by(DeclinedQuestionRecord.id)
            )
        )
    feedback = []
    for row in links.feedback:
        item = _columns(row, skip=("raw_text",))
        item["text"] = row.raw_text if row.raw_text is not None else row.text
        item["text_is_redacted"] = row.raw_text is None and bool(row.redacted)
        feedback.append(item)
    document: dict[str, Any] = {
        "schema": EXPORT_SCHEMA,
        "exported_at": now.isoformat(),
        "person": _columns(links.person),
        "identities": [_columns(r) for r in links.identities],
        "consents": [_columns(r) for r in links.consents],
        "events": [_columns(r) for r in links.events],
        "contact_decisions": [_columns(r) for r in links.decisions],
        "contact_outbox": [_columns(r) for r in links.outbox],
        "feedback": feedback,
        "routing_decisions": [_columns(r) for r in decisions],
        "alerts": [_columns(r) for r in alerts],
        "alert_events": [_columns(r) for r in alert_events],
        "contact_routes": [_columns(r) for r in routes],
        "web_inbox": [_columns(r) for r in inbox],
        "declined_questions": [_columns(r) for r in declined],
        "conversation": rasa_events.export_events(session=session, conversation_ids=conversations),
        "access_log": [_columns(r) for r in history],
    }
    counts = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    audit(
        session=session,
        actor=actor,
        action=AuditAction.EXPORT,
        person_id=person_id,
        now=now,
        detail={"counts": counts},
    )
    return document


# ---- right to erasure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_person` removed (counts only)."""

    person_id: str
    feedback_anonymised: int
    identities: int
    consents: int
    events: int
    contact_decisions: int
    contact_outbox: int
    alerts: int
    alert_events: int
    routing_decisions: int
    contact_routes: int = 0
    web_inbox: int = 0
    declined_questions: int = 0
    conversation_events: int = 0


def _day(value: datetime | None) -> datetime | None:
    return value.replace(hour=0, minute=0, second=0, microsecond=0) if value else None


def anonymise_feedback(*, session: Session, feedback_ids: list[int]) -> dict[str, int]:
    """Strip feedback rows down to anonymised aggregates (no text, no id, no link).

    Deletes their routing decisions, alerts and alert events (alert payloads carry
    excerpts and conversation ids; notes are free text); follow-ups lose their parent link.

    Returns:
        How many rows of each kind were changed or deleted.
    """
    if not feedback_ids:
        return {"feedback": 0, "alerts": 0, "alert_events": 0, "routing_decisions": 0}
    counts = {}
    for key, model in (
        ("alerts", AlertOutboxRecord),
        ("alert_events", AlertEventRecord),
        ("routing_decisions", RoutingDecisionRecord),
    ):
        result = session.execute(delete(model).where(model.feedback_id.in_(feedback_ids)))
        counts[key] = int(getattr(result, "rowcount", 0) or 0)
    session.execute(
        update(FeedbackRecord)
        .where(FeedbackRecord.parent_id.in_(feedback_ids))
        .values(parent_id=None)
    )
    rows = session.scalars(select(FeedbackRecord).where(FeedbackRecord.id.in_(feedback_ids)))
    changed = 0
    for row in rows:
        row.text = ""
        row.raw_text = None
        row.redacted = True
        row.conversation_id = ANONYMOUS
        row.parent_id = None
        row.original_length = 0
        row.truncated = False
        row.raw_emotions = None
        created = _day(row.created_at)
        if created is not None:
            row.created_at = created
        row.updated_at = row.created_at
        row.acknowledged_at = _day(row.acknowledged_at)
        row.resolved_at = _day(row.resolved_at)
        changed += 1
    session.flush()
    counts["feedback"] = changed
    return counts


def erase_person(
    *, session: Session, person_id: str, actor: Actor, now: datetime
) -> ErasureReport | None:
    """Erase ``person_id``: delete what identifies them, anonymise their feedback; audited.

    Returns:
        What was removed, or ``None`` when no such person exists.
    """
    links = linked(session=session, person_id=person_id)
    if links is None:
        return None
    anonymised = anonymise_feedback(
        session=session, feedback_ids=[row.id for row in links.feedback]
    )
    conversations = links.conversation_ids
    routes = inbox = declined = 0
    if conversations:
        routes = _count(
            session.execute(
                delete(ContactRouteRecord).where(
                    ContactRouteRecord.conversation_id.in_(conversations)
                )
            )
        )
        inbox = _count(
            session.execute(
                delete(WebInboxRecord).where(WebInboxRecord.conversation_id.in_(conversations))
            )
        )
        declined = _count(
            session.execute(
                delete(DeclinedQuestionRecord).where(
                    DeclinedQuestionRecord.conversation_id.in_(conversations)
                )
            )
        )
    conversation_events = rasa_events.erase_events(session=session, conversation_ids=conversations)
    report = ErasureReport(
        person_id=person_id,
        conversation_events=conversation_events,
        feedback_anonymised=anonymised["feedback"],
        identities=len(links.identities),
        consents=len(links.consents),
        events=len(links.events),
        contact_decisions=len(links.decisions),
        contact_outbox=len(links.outbox),
        alerts=anonymised["alerts"],
        alert_events=anonymised["alert_events"],
        routing_decisions=anonymised["routing_decisions"],
        contact_routes=routes,
        web_inbox=inbox,
        declined_questions=declined,
    )
    session.expunge_all()  # the loaded rows are about to be deleted or were changed in SQL
    delete_person(session=session, person_id=person_id)
    detail = {k: v for k, v in asdict(report).items() if k != "person_id"}
    audit(
        session=session,
        actor=actor,
        action=AuditAction.ERASE,
        person_id=person_id,
        now=now,
        detail=detail,
    )
    return report


# ---- retention ----------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    """What :func:`purge` did (counts only)."""

    cutoff: str
    action: str
    feedback: int = 0
    events: int = 0
    contact_decisions: int = 0
    contact_outbox: int = 0
    contact_routes: int = 0
    web_inbox: int = 0
    declined_questions: int = 0
    conversation_events: int = 0
    persons: int = 0
    redacted: int = 0
    details: dict[str, int] = field(default_factory=dict)


def redact_stored(
    *, session: Session, company: Company, batch_size: int = 500, limit: int | None = None
) -> int:
    """Redact stored feedback text that is not redacted yet (older rows); returns how many."""
    done = 0
    last_id = 0
    while limit is None or done < limit:
        rows = list(
            session.scalars(
                select(FeedbackRecord)
                .where(FeedbackRecord.redacted.is_(False), FeedbackRecord.id > last_id)
                .order_by(FeedbackRecord.id)
                .limit(batch_size)
            )
        )
        if not rows:
            break
        for row in rows:
            last_id = row.id
            if company.privacy.keep_raw_text and row.raw_text is None:
                row.raw_text = row.text
            row.text = redact(row.text or "", row.language, company=company).text
            row.redacted = True
            done += 1
        session.flush()
    return done


def purge(
    *,
    session: Session,
    company: Company,
    now: datetime,
    actor: Actor | None = None,
    retention_days: int | None = None,
) -> PurgeReport:
    """Anonymise or delete what is older than the retention period; audited.

    Args:
        session: the open session (no commit inside).
        company: gives ``privacy.retention_days`` and ``privacy.retention_action``.
        now: the current time.
        actor: who runs it (default: the system).
        retention_days: overrides the configured period.
    """
    days = retention_days if retention_days is not None else company.privacy.retention_days
    cutoff = now - timedelta(days=days)
    action = company.privacy.retention_action
    report = PurgeReport(cutoff=cutoff.isoformat(), action=action)

    old_feedback = list(
        session.scalars(
            select(FeedbackRecord.id).where(
                FeedbackRecord.created_at < cutoff, FeedbackRecord.conversation_id != ANONYMOUS
            )
        )
    )
    if action == "delete":
        old_feedback = list(
            session.scalars(select(FeedbackRecord.id).where(FeedbackRecord.created_at < cutoff))
        )
        if old_feedback:
            session.execute(
                update(FeedbackRecord)
                .where(FeedbackRecord.parent_id.in_(old_feedback))
                .values(parent_id=None)
            )
            for model in (AlertOutboxRecord, AlertEventRecord, RoutingDecisionRecord):
                session.execute(delete(model).where(model.feedback_id.in_(old_feedback)))
            session.execute(delete(FeedbackRecord).where(FeedbackRecord.id.in_(old_feedback)))
        report.feedback = len(old_feedback)
    else:
        report.details.update(anonymise_feedback(session=session, feedback_ids=old_feedback))
        report.feedback = len(old_feedback)

    old_events = select(TouchpointEventRecord.id).where(TouchpointEventRecord.received_at < cutoff)
    for ledger_model in (ContactDecisionRecord, ContactOutboxRecord):
        session.execute(
            update(ledger_model).where(ledger_model.event_id.in_(old_events)).values(event_id=None)
        )
    report.events = _count(
        session.execute(
            delete(TouchpointEventRecord).where(TouchpointEventRecord.received_at < cutoff)
        )
    )
    old_decisions = select(ContactDecisionRecord.id).where(
        ContactDecisionRecord.decided_at < cutoff
    )
    session.execute(
        update(ContactOutboxRecord)
        .where(ContactOutboxRecord.decision_id.in_(old_decisions))
        .values(decision_id=None)
    )
    report.contact_decisions = _count(
        session.execute(
            delete(ContactDecisionRecord).where(ContactDecisionRecord.decided_at < cutoff)
        )
    )
    report.contact_outbox = _count(
        session.execute(
            delete(ContactOutboxRecord).where(
                ContactOutboxRecord.created_at < cutoff,
                ContactOutboxRecord.status.in_(FINISHED_OUTBOX),
            )
        )
    )
    report.contact_routes = _count(
        session.execute(delete(ContactRouteRecord).where(ContactRouteRecord.updated_at < cutoff))
    )
    report.web_inbox = _count(
        session.execute(delete(WebInboxRecord).where(WebInboxRecord.created_at < cutoff))
    )
    report.declined_questions = _count(
        session.execute(
            delete(DeclinedQuestionRecord).where(DeclinedQuestionRecord.created_at < cutoff)
        )
    )
    conversation_days = min(days, company.privacy.conversation_days)
    report.conversation_events = rasa_events.purge_events(
        session=session, cutoff=now - timedelta(days=conversation_days)
    )
    session.expunge_all()
    recent = select(PersonIdentityRecord.person_id).where(
        PersonIdentityRecord.last_seen_at >= cutoff
    )
    stale = list(
        session.scalars(
            select(PersonRecord.id).where(
                PersonRecord.updated_at < cutoff, PersonRecord.id.not_in(recent)
            )
        )
    )
    for person_id in stale:
        pending = session.scalars(
            select(ContactOutboxRecord.id).where(ContactOutboxRecord.person_id == person_id)
        ).first()
        conversations = conversation_ids(session=session, person_id=person_id)
        recent_feedback = (
            session.scalars(
                select(FeedbackRecord.id).where(
                    FeedbackRecord.conversation_id.in_(conversations),
                    FeedbackRecord.created_at >= cutoff,
                )
            ).first()
            if conversations
            else None
        )
        if pending is None and recent_feedback is None:
            delete_person(session=session, person_id=person_id)
            report.persons += 1
    report.redacted = redact_stored(session=session, company=company)
    audit(
        session=session,
        actor=actor or Actor.system("retention"),
        action=AuditAction.PURGE,
        person_id=None,
        now=now,
        detail=asdict(report),
    )
    return report


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def run_retention(
    *, services: Services, once: bool = False, stop: threading.Event | None = None
) -> int:
    """The worker's retention loop: :func:`purge` now, then every day, until ``stop``.

    Returns:
        How many purges ran (failures are logged, never raised: the worker keeps going).
    """
    stop = stop or threading.Event()
    runs = 0
    while not stop.is_set():
        try:
            with services.sessions.begin() as session:
                report = purge(session=session, company=services.company, now=services.clock())
            log.info("retention purge: %s", asdict(report))
            runs += 1
        except Exception:
            log.exception("the retention purge failed; it runs again at the next interval")
        if once:
            break
        stop.wait(RETENTION_INTERVAL_S)
    return runs
