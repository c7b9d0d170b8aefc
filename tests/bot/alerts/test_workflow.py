"""Tests of bot/alerts/workflow.py: transitions, idempotence, audit events, reassignment."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.workflow import Actor, Transition, apply, current, history
from bot.contact.routes import save_route, set_consent
from bot.domain import PERSON_DESTINATION
from bot.errors import WorkflowError
from bot.feedback.intake import Message, record
from bot.storage.models import AlertOutboxRecord, FeedbackRecord

ALEX = Actor(channel="telegram", id="1001", name="Alex")
SAM = Actor(channel="api", id="ops", name="Sam")


def complaint(services: Any, conversation: str = "p_billing") -> int:
    outcome = record(
        Message(
            conversation_id=conversation,
            text="ma facture est fausse, on m'a chargé deux fois",
            language="fr",
            channel="telegram",
        ),
        services=services,
    )
    return outcome.feedback_id


def outbox(services: Any) -> list[AlertOutboxRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(AlertOutboxRecord).order_by(AlertOutboxRecord.id)))


def test_acknowledge_then_resolve_records_who_and_when(make_services: Any, fakes: Any) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    feedback_id = complaint(services)
    assert current(feedback_id, services=services).team == "billing"

    clock.advance(60)
    acked = apply(feedback_id, Transition.ACKNOWLEDGE, ALEX, services=services)
    assert acked.changed and acked.status == "acknowledged"
    assert acked.acknowledged_at == clock.now
    clock.advance(60)
    resolved = apply(feedback_id, "resolve", SAM, note="refund issued", services=services)
    assert resolved.changed and resolved.status == "resolved"
    assert resolved.resolved_at == clock.now and resolved.acknowledged_at == acked.acknowledged_at

    events = history(feedback_id, services=services)
    assert [(e.action, e.actor_channel, e.actor_id, e.actor_name) for e in events] == [
        ("acknowledged", "telegram", "1001", "Alex"),
        ("resolved", "api", "ops", "Sam"),
    ]
    assert events[1].note == "refund issued" and events[1].team == "billing"
    with services.sessions() as session:
        row = session.get(FeedbackRecord, feedback_id)
        assert row is not None and row.status == "resolved"


def test_resolve_twice_is_idempotent_and_names_who_did_it(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = complaint(services)
    first = apply(feedback_id, Transition.RESOLVE, ALEX, services=services)
    again = apply(feedback_id, Transition.RESOLVE, SAM, services=services)
    assert first.changed and not again.changed
    assert again.status == "resolved"
    assert again.event is not None and again.event.actor_name == "Alex"
    assert len(history(feedback_id, services=services)) == 1


@pytest.mark.parametrize(
    ("setup", "transition", "code"),
    [
        ("resolve", Transition.ACKNOWLEDGE, "invalid_transition"),
        ("resolve", Transition.REASSIGN, "invalid_transition"),
        (None, Transition.REOPEN, "invalid_transition"),
    ],
)
def test_invalid_transitions_are_explained_and_change_nothing(
    make_services: Any, fakes: Any, setup: str | None, transition: Transition, code: str
) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = complaint(services)
    if setup:
        apply(feedback_id, setup, ALEX, services=services)
    before = len(history(feedback_id, services=services))
    with pytest.raises(WorkflowError) as excinfo:
        apply(feedback_id, transition, SAM, to_team="logistics", services=services)
    assert excinfo.value.code == code and str(excinfo.value)
    assert len(history(feedback_id, services=services)) == before


def test_unknown_feedback_team_or_action(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = complaint(services)
    with pytest.raises(WorkflowError, match="no feedback") as missing:
        apply(999_999, Transition.RESOLVE, ALEX, services=services)
    assert missing.value.code == "not_found"
    with pytest.raises(WorkflowError) as team:
        apply(feedback_id, Transition.REASSIGN, ALEX, to_team="nope", services=services)
    assert team.value.code == "unknown_team"
    with pytest.raises(WorkflowError) as action:
        apply(feedback_id, "delete", ALEX, services=services)
    assert action.value.code == "invalid_transition"


def test_reassign_routes_new_alerts_to_the_other_team(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = complaint(services)
    apply(feedback_id, Transition.ACKNOWLEDGE, ALEX, services=services)
    before = outbox(services)
    result = apply(
        feedback_id, Transition.REASSIGN, ALEX, to_team="customer_care", services=services
    )
    assert result.changed and result.team == "customer_care" and result.previous_team == "billing"
    assert result.status == "open" and result.acknowledged_at is None
    new = outbox(services)[len(before) :]
    assert [(r.team, r.kind) for r in new] == [("customer_care", "reassigned")]
    assert "Service à la clientèle" in new[0].payload["title"]
    [event] = [e for e in history(feedback_id, services=services) if e.action == "reassigned"]
    assert (event.team, event.to_team) == ("billing", "customer_care")
    again = apply(feedback_id, Transition.REASSIGN, SAM, to_team="customer_care", services=services)
    assert not again.changed and len(outbox(services)) == len(new) + len(before)


def test_reopen_then_resolve_again(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = complaint(services)
    apply(feedback_id, Transition.RESOLVE, ALEX, services=services)
    reopened = apply(feedback_id, Transition.REOPEN, SAM, services=services)
    assert reopened.status == "open" and reopened.resolved_at is None
    assert apply(feedback_id, Transition.RESOLVE, SAM, services=services).changed
    actions = [e.action for e in history(feedback_id, services=services)]
    assert actions == ["resolved", "reopened", "resolved"]


def test_resolve_queues_the_closing_message_only_with_consent(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    agreed, refused, silent = (complaint(services, c) for c in ("p_yes", "p_no", "p_silent"))
    for conversation in ("p_yes", "p_no", "p_silent"):
        save_route(
            conversation_id=conversation,
            audience="customer",
            channel="telegram",
            address="918273645",
            language="fr",
            services=services,
        )
    set_consent("p_yes", True, services=services)
    set_consent("p_no", False, services=services)

    results = [
        apply(f, Transition.RESOLVE, ALEX, services=services) for f in (agreed, refused, silent)
    ]
    assert [r.contacted for r in results] == [True, False, False]
    closing = [r for r in outbox(services) if r.destination == PERSON_DESTINATION]
    assert len(closing) == 1
    payload = closing[0].payload
    assert payload["conversation_id"] == "p_yes" and payload["intent"] == "EXTERNAL_issue_resolved"
    assert "918273645" not in str(payload)  # the address stays in contact_route
    # Resolve pressed again: no second message
    apply(agreed, Transition.RESOLVE, SAM, services=services)
    assert len([r for r in outbox(services) if r.destination == PERSON_DESTINATION]) == 1
