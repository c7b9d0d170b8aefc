"""Tests of bot/alerts/escalation.py: unacknowledged urgent issues escalate once, by the worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.alerts.destinations import FakeDestination
from bot.alerts.escalation import escalate_due
from bot.alerts.worker import deliver_due
from bot.alerts.workflow import Actor, Transition, apply, history
from bot.company import Company, Escalation
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.storage.models import AlertOutboxRecord

HARASSMENT = "Mon superviseur me fait du harcèlement depuis des semaines"


def escalated_rows(services: Any) -> list[AlertOutboxRecord]:
    with services.sessions() as session:
        statement = select(AlertOutboxRecord).where(AlertOutboxRecord.kind == "escalated")
        return list(session.scalars(statement))


def urgent(services: Any, conversation: str = "p_e1") -> int:
    message = Message(
        conversation_id=conversation, text=HARASSMENT, language="fr", audience=Audience.EMPLOYEE
    )
    outcome = record(message, services=services)
    assert outcome.severity == "urgent"
    return outcome.feedback_id


def test_escalates_after_the_delay_once_and_keeps_privacy(make_services: Any, fakes: Any) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)  # shipped company: 30 min, hr
    feedback_id = urgent(services)
    clock.advance(29 * 60)
    assert escalate_due(services) == 0
    clock.advance(2 * 60)
    fake = FakeDestination()
    deliver_due(services=services, destinations=lambda team, name: fake)
    [row] = escalated_rows(services)
    assert row.team == "hr" and row.payload["confidential"] is True
    assert row.payload["excerpt"] is None and "conversation_id" not in row.payload
    assert "escalad" in row.payload["title"].lower()
    [event] = history(feedback_id, services=services)
    assert (event.action, event.actor_channel, event.to_team) == ("escalated", "worker", "hr")
    clock.advance(3600)
    assert escalate_due(services) == 0
    deliver_due(services=services, destinations=lambda team, name: fake)
    assert len(escalated_rows(services)) == 1


def test_acknowledged_or_low_severity_issues_do_not_escalate(
    make_services: Any, fakes: Any
) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    acknowledged = urgent(services, "p_ack")
    apply(acknowledged, Transition.ACKNOWLEDGE, Actor("api", "x"), services=services)
    record(
        Message(conversation_id="p_c", text="Mon colis est arrivé écrasé", language="fr"),
        services=services,
    )
    clock.advance(7200)
    assert escalate_due(services) == 0
    assert escalated_rows(services) == []


def test_configurable_delay_and_no_escalation_without_config(
    make_services: Any, fakes: Any, company: Company
) -> None:
    clock = fakes.FixedClock()
    quick = company.model_copy(
        update={"escalation": Escalation(after_minutes=1, teams={"employee": "it"})}
    )
    services = make_services(fakes.ANGRY, clock=clock, company_config=quick)
    urgent(services)
    clock.advance(61)
    assert escalate_due(services) == 1
    assert [r.team for r in escalated_rows(services)] == ["it"]

    off = make_services(
        fakes.ANGRY, clock=clock, company_config=company.model_copy(update={"escalation": None})
    )
    urgent(off, "p_off")
    clock.advance(7200)
    assert escalate_due(off) == 0
