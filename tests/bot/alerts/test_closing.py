"""Tests of bot/alerts/closing.py: routes, consent, and the closing message via the worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.alerts.closing import PersonDestination
from bot.alerts.destinations import FakeDestination
from bot.alerts.worker import deliver_due
from bot.alerts.workflow import Actor, Transition, apply
from bot.contact.outbound import FakeIntentTrigger, FakeSender, Route
from bot.contact.routes import (
    answer_contact_question,
    collect_inbox,
    opt_out_conversation,
    save_route,
    set_consent,
    store_inbox,
)
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.storage.models import AlertOutboxRecord, ContactRouteRecord, OutboxStatus

ALEX = Actor("telegram", "1", "Alex")


def routes(services: Any) -> list[ContactRouteRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(ContactRouteRecord).order_by(ContactRouteRecord.id)))


def closing_rows(services: Any) -> list[AlertOutboxRecord]:
    with services.sessions() as session:
        return list(
            session.scalars(select(AlertOutboxRecord).where(AlertOutboxRecord.kind == "closing"))
        )


def reachable(services: Any, *chats: tuple[str, str]) -> None:
    """Each ``(conversation, Telegram chat id)`` agreed to hear back, in English."""
    for conversation, address in chats:
        save_route(
            conversation_id=conversation, audience="customer", channel="telegram",
            address=address, language="en", services=services,
        )  # fmt: skip
        set_consent(conversation, True, services=services)


def resolved_feedback(services: Any, conversation: str, audience: Audience, channel: str) -> int:
    feedback_id = record(
        Message(
            conversation_id=conversation,
            text="The scanner is broken again, I can't work like this",
            language="en",
            audience=audience,
            channel=channel,
        ),
        services=services,
    ).feedback_id
    return feedback_id


def test_routes_are_refreshed_and_a_refusal_erases_the_address(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    kwargs = {"conversation_id": "p_1", "audience": "customer", "channel": "telegram"}
    save_route(address="10", language="fr", services=services, **kwargs)
    save_route(address="11", language="en", services=services, **kwargs)
    [route] = routes(services)
    assert (route.address, route.language, route.consent) == ("11", "en", None)
    assert set_consent("p_1", False, services=services) == 1
    [route] = routes(services)
    assert route.consent is False and route.address is None and route.consent_at is not None
    save_route(address="12", language="en", services=services, **kwargs)
    assert routes(services)[0].address is None  # a refusal stays a refusal
    assert set_consent("p_unknown", True, services=services) == 0


def test_web_consent_creates_the_web_route(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    set_consent("p_web", True, channel="web", audience="customer", language="fr", services=services)
    [route] = routes(services)
    assert (route.channel, route.address, route.consent) == ("web", "p_web", True)


def test_employee_hears_back_through_the_worker_and_rasa_outage_loses_nothing(
    make_services: Any, fakes: Any
) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    feedback_id = resolved_feedback(services, "p_emp", Audience.EMPLOYEE, "telegram")
    save_route(
        conversation_id="p_emp", audience="employee", channel="telegram", address="735190462",
        language="en", services=services,
    )  # fmt: skip
    set_consent("p_emp", True, services=services)
    assert apply(feedback_id, Transition.RESOLVE, ALEX, services=services).contacted

    trigger = FakeIntentTrigger(
        replies={"EXTERNAL_issue_resolved": [{"text": "Good news: it's resolved."}]}, fail_times=1
    )
    sender = FakeSender()
    person = PersonDestination(services=services, trigger=trigger, sender=sender)
    teams = FakeDestination()

    def resolver(team: str, name: str) -> Any:
        return person if name == "person" else teams

    first = deliver_due(services=services, destinations=resolver)
    [row] = closing_rows(services)
    assert first.retried == 1 and row.status == OutboxStatus.FAILED and sender.sent == []
    clock.advance(3600)
    deliver_due(services=services, destinations=resolver)
    [row] = closing_rows(services)
    assert row.status == OutboxStatus.SENT
    [(route, messages)] = sender.sent
    assert (route.channel, route.address, route.audience, route.language) == (
        "telegram", "735190462", "employee", "en"
    )  # fmt: skip
    assert messages == [{"text": "Good news: it's resolved."}]
    assert [c[:2] for c in trigger.calls] == [("p_emp", "EXTERNAL_issue_resolved")] * 2
    # the team's alerts never carried the route
    assert teams.delivered and all("735190462" not in str(a.payload) for a in teams.delivered)
    assert all("p_emp" not in str(a.payload) for a in teams.delivered)


def test_consent_withdrawn_before_delivery_means_no_message(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = resolved_feedback(services, "p_c", Audience.CUSTOMER, "telegram")
    save_route(
        conversation_id="p_c", audience="customer", channel="telegram", address="5",
        language="fr", services=services,
    )  # fmt: skip
    set_consent("p_c", True, services=services)
    apply(feedback_id, Transition.RESOLVE, ALEX, services=services)
    set_consent("p_c", False, services=services)
    sender = FakeSender()
    person = PersonDestination(services=services, trigger=FakeIntentTrigger(), sender=sender)
    deliver_due(
        services=services,
        destinations=lambda team, name: person if name == "person" else FakeDestination(),
    )
    [row] = closing_rows(services)
    assert row.status == OutboxStatus.DEAD and "consent" in (row.last_error or "")
    assert sender.sent == []


def test_inbox_roundtrip(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    route = Route("p_w", "customer", "web", "p_w", "fr")
    store_inbox(route, [{"text": "un"}], services=services)
    store_inbox(route, [{"text": "deux"}], services=services)
    assert collect_inbox("p_w", services=services) == [{"text": "un"}, {"text": "deux"}]
    assert collect_inbox("p_w", services=services) == []


def test_a_dead_closing_row_is_requeued_to_the_person_never_to_a_team(
    make_services: Any, fakes: Any
) -> None:
    from bot.alerts.outbox import requeue_dead

    services = make_services(fakes.ANGRY)
    feedback_id = resolved_feedback(services, "p_d", Audience.EMPLOYEE, "telegram")
    save_route(
        conversation_id="p_d", audience="employee", channel="telegram", address="9",
        language="en", services=services,
    )  # fmt: skip
    set_consent("p_d", True, services=services)
    apply(feedback_id, Transition.RESOLVE, ALEX, services=services)
    broken = PersonDestination(services=services, trigger=FakeIntentTrigger(), sender=FakeSender())
    with services.sessions.begin() as session:
        for row in session.scalars(select(AlertOutboxRecord)):
            row.status = OutboxStatus.DEAD.value
    assert broken is not None
    with services.sessions.begin() as session:
        requeue_dead(session, company=services.company, now=services.clock())
    rows = closing_rows(services)
    assert [(r.destination, r.status) for r in rows] == [("person", "pending")]


# ---- one source of truth: the ledger's consent for "followup", and opt-out wins ---------------


def followup_consent(services: Any, conversation: str) -> tuple[bool, str] | None:
    from bot.privacy.persons import find_by_conversation
    from bot.storage.models import ConsentRecord

    with services.sessions() as session:
        person = find_by_conversation(session=session, conversation_id=conversation)
        if person is None:
            return None
        row = session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.person_id == person.id, ConsentRecord.purpose == "followup"
            )
        ).one_or_none()
        return None if row is None else (row.granted, row.source)


def closing_decisions(services: Any) -> list[tuple[str, str, str, str | None]]:
    from bot.storage.models import ContactDecisionRecord

    with services.sessions() as session:
        rows = session.scalars(select(ContactDecisionRecord).order_by(ContactDecisionRecord.id))
        return [(d.purpose, d.outcome, d.reason, d.detail) for d in rows]


def test_the_flow_consent_is_the_ledger_consent_for_followup(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    save_route(
        conversation_id="p_f", audience="customer", channel="telegram", address="77",
        language="fr", services=services,
    )  # fmt: skip
    assert followup_consent(services, "p_f") is None
    assert answer_contact_question("p_f", True, channel="telegram", services=services) is True
    assert followup_consent(services, "p_f") == (True, "contact_question:telegram")
    assert answer_contact_question("p_f", False, channel="telegram", services=services) is False
    assert followup_consent(services, "p_f") == (False, "contact_question:telegram")
    [route] = routes(services)
    assert (route.consent, route.address) == (False, None)


def test_stop_after_the_closing_was_queued_stops_it_and_says_why(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = resolved_feedback(services, "p_s", Audience.CUSTOMER, "telegram")
    save_route(
        conversation_id="p_s", audience="customer", channel="telegram", address="88",
        language="fr", services=services,
    )  # fmt: skip
    assert answer_contact_question("p_s", True, channel="telegram", services=services)
    assert apply(feedback_id, Transition.RESOLVE, ALEX, services=services).contacted
    [row] = closing_rows(services)
    assert row.status == OutboxStatus.PENDING

    opt_out_conversation("p_s", channel="telegram", audience="customer", services=services)

    [row] = closing_rows(services)
    assert row.status == OutboxStatus.DEAD and (row.last_error or "").startswith("opted_out")
    [route] = routes(services)
    assert (route.consent, route.address) == (False, None)  # the chat id is gone too
    # even a requeued row is refused at delivery time, by the ledger
    with services.sessions.begin() as session:
        queued = session.get(AlertOutboxRecord, row.id)
        assert queued is not None
        queued.status = OutboxStatus.PENDING.value
    trigger, sender = FakeIntentTrigger(), FakeSender()
    person = PersonDestination(services=services, trigger=trigger, sender=sender)
    deliver_due(
        services=services,
        destinations=lambda team, name: person if name == "person" else FakeDestination(),
    )
    [row] = closing_rows(services)
    assert row.status == OutboxStatus.DEAD and "opted_out" in (row.last_error or "")
    assert sender.sent == [] and trigger.calls == []
    assert ("followup", "suppressed", "opted_out") in [d[:3] for d in closing_decisions(services)]


def test_stop_before_resolution_means_no_closing_and_the_ledger_records_why(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    feedback_id = resolved_feedback(services, "p_t", Audience.EMPLOYEE, "telegram")
    save_route(
        conversation_id="p_t", audience="employee", channel="telegram", address="99",
        language="en", services=services,
    )  # fmt: skip
    assert answer_contact_question("p_t", True, channel="telegram", services=services)
    opt_out_conversation("p_t", channel="telegram", audience="employee", services=services)
    # a later "yes" to the contact question does not lift the opt-out
    assert answer_contact_question("p_t", True, channel="telegram", services=services) is False
    assert followup_consent(services, "p_t") == (False, "opt_out:telegram")
    assert routes(services)[0].consent is False

    assert not apply(feedback_id, Transition.RESOLVE, ALEX, services=services).contacted
    assert closing_rows(services) == []
    [decision] = [d for d in closing_decisions(services) if d[0] == "followup"]
    assert decision[1:3] == ("suppressed", "opted_out") and "opt_out:telegram" in str(decision[3])


def test_everyone_who_wrote_on_telegram_is_a_ledger_person_and_can_be_erased(
    make_services: Any, fakes: Any
) -> None:
    from bot.privacy.persons import resolve_person_ref
    from bot.privacy.pseudonyms import pseudonym
    from bot.privacy.rights import Actor, erase_person
    from bot.storage.models import PersonIdentityRecord

    services = make_services(fakes.ANGRY)
    conversation = pseudonym("31337", channel="telegram", secret="test-secret")
    save_route(
        conversation_id=conversation, audience="customer", channel="telegram", address="31337",
        language="fr", services=services,
    )  # fmt: skip
    save_route(
        conversation_id=conversation, audience="customer", channel="telegram", address="31337",
        language="en", services=services,
    )  # fmt: skip
    with services.sessions() as session:
        [identity] = session.scalars(select(PersonIdentityRecord)).all()
        assert (identity.kind, identity.scope, identity.value, identity.conversation_id) == (
            "telegram", "customer", "31337", conversation
        )  # fmt: skip
        found = resolve_person_ref(session=session, ref="telegram:31337", secret="test-secret")
        assert found is not None and found.id == identity.person_id and found.language == "en"
    with services.sessions.begin() as session:
        report = erase_person(
            session=session, person_id=identity.person_id, actor=Actor.cli(),
            now=services.clock(),
        )  # fmt: skip
    assert report is not None and report.contact_routes == 1
    assert routes(services) == []


def test_the_teams_closing_words_reach_the_person_with_the_resolution(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    worded = resolved_feedback(services, "p_words", Audience.CUSTOMER, "telegram")
    plain = resolved_feedback(services, "p_plain", Audience.CUSTOMER, "telegram")
    reachable(services, ("p_words", "101"), ("p_plain", "102"))
    words = "  We replaced the part.\n\nSorry for the wait!  " + "x" * 600
    assert apply(worded, Transition.RESOLVE, ALEX, message=words, services=services).contacted
    assert apply(plain, Transition.RESOLVE, ALEX, message="   ", services=services).contacted
    payloads = {row.feedback_id: row.payload for row in closing_rows(services)}
    sent = payloads[worded]["message"]
    assert sent.startswith("We replaced the part. Sorry for the wait! xxx") and len(sent) == 500
    assert "message" not in payloads[plain]

    trigger = FakeIntentTrigger(replies={"EXTERNAL_issue_resolved": [{"text": "Resolved."}]})
    person = PersonDestination(services=services, trigger=trigger, sender=FakeSender())
    teams = FakeDestination()
    deliver_due(services=services, destinations=lambda t, n: person if n == "person" else teams)
    assert teams.delivered and all("We replaced" not in str(a.payload) for a in teams.delivered)
    assert len(trigger.calls) == 2
    entities = {call[0]: call[2] for call in trigger.calls}
    assert entities["p_words"] == {"closing_message": sent}
    assert not entities["p_plain"]


def test_a_question_is_announced_as_answered_and_a_problem_as_resolved(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.NEUTRAL)
    question = record(
        Message(conversation_id="p_asks", text="Do you deliver on Sundays in Montréal?",
                language="en", channel="telegram", intent="ask"),
        services=services,
    ).feedback_id  # fmt: skip
    problem = resolved_feedback(services, "p_broken", Audience.CUSTOMER, "telegram")
    reachable(services, ("p_asks", "201"), ("p_broken", "202"))
    for feedback_id in (question, problem):
        assert apply(feedback_id, Transition.RESOLVE, ALEX, message="Yes.", services=services)
    intents = {row.feedback_id: row.payload["intent"] for row in closing_rows(services)}
    assert intents == {
        question: "EXTERNAL_question_answered",  # the severity rule `question` (answer: true)
        problem: "EXTERNAL_issue_resolved",
    }
    trigger = FakeIntentTrigger(
        replies={
            "EXTERNAL_question_answered": [{"text": "Answered."}],
            "EXTERNAL_issue_resolved": [{"text": "Resolved."}],
        }
    )
    person = PersonDestination(services=services, trigger=trigger, sender=FakeSender())
    deliver_due(services=services, destinations=lambda t, n: person if n == "person" else
                FakeDestination())  # fmt: skip
    assert {call[0]: call[1] for call in trigger.calls} == {
        "p_asks": "EXTERNAL_question_answered",
        "p_broken": "EXTERNAL_issue_resolved",
    }
