"""The closed loop: remember how to reach a person, ask them, tell them when it is resolved.

This module owns:

- :func:`save_route`: the channel that received a person writes (or refreshes) their
  ``contact_route`` (Telegram: private chat id and bot audience; web: the pseudonymous
  conversation id) and links them to the ledger's person (:func:`link_person`).
  :func:`set_consent` / :func:`answer_contact_question` store their answer to "may we tell
  you when it's resolved?" (``action_record_contact_consent``) on the routes and, as the
  consent for purpose ``followup``, in the contact ledger (:mod:`bot.contact.ledger`, the one source
  of truth the API shows); a refusal erases the address. :func:`withdraw` is what an opt-out does
  here (routes refused, waiting closing messages stopped, with the reason).
- :func:`enqueue_closing`: called by :mod:`bot.alerts.workflow` when an issue is resolved,
  in the same transaction: when the person agreed, one ``alert_outbox`` row addressed to the
  reserved destination :data:`PERSON_DESTINATION` (``kind`` ``closing``), so the worker
  delivers it with the same retries as team alerts and nothing is lost while Rasa or
  Telegram is down. The row's payload names the feedback and the intent, never the address.
- :class:`PersonDestination`: the worker's destination for those rows: it reads the route
  at delivery time and asks the ledger again (consent for ``followup`` refused or an
  opt-out since → not sent, permanently, the reason on the row and in ``contact_decision``), then
  :func:`bot.contact.outbound.notify` triggers ``EXTERNAL_issue_resolved`` in the person's
  conversation (Rasa answers ``utter_issue_resolved`` in their language) and delivers it on
  their channel. Teams never see the route: an employee stays pseudonymous.
- :func:`store_inbox` / :func:`collect_inbox`: the web chat inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.alerts.destinations import Alert, PermanentDeliveryError
from bot.company import Company
from bot.contact import ledger
from bot.contact.outbound import (
    ChannelSender,
    IntentTrigger,
    OutboundMessage,
    PermanentOutboundError,
    Route,
    notify,
)
from bot.contact.routes import (
    _consented_route,
    followup_refusal,
)
from bot.domain import PERSON_DESTINATION, AlertKind
from bot.privacy.persons import find_by_conversation
from bot.services import Services
from bot.storage.models import (
    AlertOutboxRecord,
    ContactDecisionRecord,
    ContactOutcome,
    FeedbackRecord,
    OutboxStatus,
    RoutingDecisionRecord,
)

RESOLVED_INTENT = "EXTERNAL_issue_resolved"
ANSWERED_INTENT = "EXTERNAL_question_answered"
"""The trigger for a question (a severity rule with ``answer: true`` routed it): "answered"."""
CLOSING_SCHEMA = "vecu.closing/1"
MESSAGE_ENTITY = "closing_message"
"""The entity that carries the team's closing words into Rasa (``action_issue_resolved``)."""
MAX_CLOSING_MESSAGE = 500


def closing_message(message: str | None) -> str | None:
    """The team's closing words as sent: one paragraph, at most :data:`MAX_CLOSING_MESSAGE`."""
    if message is None:
        return None
    flat = " ".join(message.split())
    return flat[:MAX_CLOSING_MESSAGE] or None


def enqueue_closing(
    session: Session,
    *,
    feedback: FeedbackRecord,
    company: Company,
    now: datetime,
    message: str | None = None,
) -> bool:
    """Queue the "it's resolved" message to the person, if they agreed (flushed, not committed).

    ``message`` (the resolving team's own words, optional) travels in the row's payload and
    is said after ``utter_issue_resolved`` (``action_issue_resolved``).

    Returns:
        Whether a message was queued.
    """
    root = feedback
    while root.parent_id is not None:  # follow-ups belong to the conversation of the root
        parent = session.get(FeedbackRecord, root.parent_id)
        if parent is None:
            break
        root = parent
    refusal = followup_refusal(session, conversation_id=root.conversation_id, company=company)
    if refusal is not None:
        _record_refusal(session, conversation_id=root.conversation_id, refusal=refusal, now=now)
        return False
    route = _consented_route(session, root.conversation_id, root.channel)
    if route is None:
        return False
    alert_id = str(uuid.uuid4())
    session.add(
        AlertOutboxRecord(
            alert_id=alert_id,
            feedback_id=feedback.id,
            team=feedback.team or "",
            destination=PERSON_DESTINATION,
            kind=AlertKind.CLOSING,
            severity=feedback.severity,
            payload={
                "schema": CLOSING_SCHEMA,
                "id": alert_id,
                "feedback_id": feedback.id,
                "conversation_id": root.conversation_id,
                "channel": route.channel,
                "intent": ANSWERED_INTENT
                if _is_question(session, feedback, company)
                else (RESOLVED_INTENT),
                **({"message": text} if (text := closing_message(message)) else {}),
            },
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            created_at=now,
            sent_at=None,
        )
    )
    session.flush()
    return True


def _is_question(session: Session, feedback: FeedbackRecord, company: Company) -> bool:
    """Whether a severity rule with ``answer: true`` (a question) routed ``feedback``."""
    answering = [rule.name for rule in company.severity_rules if rule.answer]
    if not answering:
        return False
    found = session.scalars(
        select(RoutingDecisionRecord.id).where(
            RoutingDecisionRecord.feedback_id == feedback.id,
            RoutingDecisionRecord.rule.in_(answering),
        )
    ).first()
    return found is not None


def _record_refusal(
    session: Session, *, conversation_id: str, refusal: tuple[str, str], now: datetime
) -> None:
    """Write the ledger's "not sent, and why" for a closing message (a suppressed decision)."""
    person = find_by_conversation(session=session, conversation_id=conversation_id)
    if person is None:
        return
    session.add(
        ContactDecisionRecord(
            person_id=person.id, event_id=None, purpose=ledger.ConsentPurpose.FOLLOWUP.value,
            touchpoint=None, outcome=ContactOutcome.SUPPRESSED.value, reason=refusal[0],
            detail=refusal[1], decided_at=now,
        )
    )  # fmt: skip
    session.flush()


class PersonDestination:
    """The worker's destination for ``closing`` rows (see the module docstring).

    Args:
        services: the services (database, to read the route).
        trigger: starts the intent in Rasa.
        sender: delivers to the person's channel.
    """

    def __init__(
        self, *, services: Services, trigger: IntentTrigger, sender: ChannelSender
    ) -> None:
        self.services = services
        self.trigger = trigger
        self.sender = sender

    def refusal(self, payload: dict[str, Any]) -> tuple[str, str] | None:
        """Why the ledger forbids this closing message now (opt-out, refused consent)."""
        conversation_id = str(payload.get("conversation_id", ""))
        with self.services.sessions.begin() as session:
            refusal = followup_refusal(
                session, conversation_id=conversation_id, company=self.services.company
            )
            if refusal is not None:
                _record_refusal(
                    session, conversation_id=conversation_id, refusal=refusal,
                    now=self.services.clock(),
                )  # fmt: skip
            return refusal

    def route(self, payload: dict[str, Any]) -> Route | None:
        """The consented route the payload's person can be reached on now."""
        with self.services.sessions() as session:
            row = _consented_route(
                session, str(payload.get("conversation_id", "")), payload.get("channel")
            )
            if row is None or row.address is None:
                return None
            return Route(
                conversation_id=row.conversation_id,
                audience=row.audience,
                channel=row.channel,
                address=row.address,
                language=row.language,
            )

    def deliver(self, alert: Alert) -> None:
        """Tell the person (raises ``DeliveryError`` to retry, permanent when hopeless)."""
        refusal = self.refusal(alert.payload)
        if refusal is not None:
            raise PermanentDeliveryError(f"{refusal[0]}: {refusal[1]}")
        route = self.route(alert.payload)
        if route is None:
            raise PermanentDeliveryError("the person withdrew their consent or has no route")
        try:
            message = alert.payload.get("message")  # as enqueue_closing stored it
            notify(
                route,
                str(alert.payload.get("intent") or RESOLVED_INTENT),
                trigger=self.trigger,
                sender=self.sender,
                entities={MESSAGE_ENTITY: message} if isinstance(message, str) else None,
            )
        except PermanentOutboundError as exc:
            raise PermanentDeliveryError(str(exc)) from exc


InboxStore = Callable[[Route, list[OutboundMessage]], None]
