"""Tests of bot/contact/events.py: signature, validation, idempotency, person resolution."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.contact.events import InvalidEvent, parse_event, receive, sign, verify_signature
from bot.services import FixedClock, Services
from bot.storage.models import (
    ContactOutboxRecord,
    PersonIdentityRecord,
    PersonRecord,
    TouchpointEventRecord,
)

DAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def body(event_id: str = "evt-1", **changes: object) -> bytes:
    event: dict[str, object] = {
        "event_id": event_id,
        "person": {"external_id": "C-1001", "telegram_chat_id": 4242, "language": "fr",
                   "time_zone": "America/Montreal"},
        "touchpoint": "delivery",
        "kind": "done",
        "occurred_at": "2026-11-23T09:55:00-05:00",
        "attributes": {"order": "CMD-12345"},
    }  # fmt: skip
    event.update(changes)
    return json.dumps(event).encode()


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    raw = body()
    good = sign(raw, "s3cret")
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify_signature(raw, good, "s3cret")
    assert verify_signature(raw, good.upper().replace("SHA256=", "sha256="), "s3cret")
    assert not verify_signature(raw + b" ", good, "s3cret")
    assert not verify_signature(raw, good, "other")
    assert not verify_signature(raw, good[7:], "s3cret")  # no "sha256=" prefix
    assert not verify_signature(raw, None, "s3cret")
    assert not verify_signature(raw, sign(raw, ""), "")  # no secret: nothing is accepted


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"not json", "the body is not JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        (body(kind="finished"), "kind:"),
        (body(touchpoint="teleportation"), "touchpoint: unknown 'teleportation'"),
        (body(occurred_at="2026-11-23T09:55:00"), "occurred_at: needs a time zone offset"),
        (json.dumps({"event_id": "x"}).encode(), "person: is required"),
        (body(person={"external_id": "C-1", "telegram_chat_id": "abc"}),
         "person.telegram_chat_id: must be a Telegram chat id"),
        (body(person={"external_id": "C-1", "time_zone": "Mars/Base"}),
         "person.time_zone: must be an IANA time zone"),
        (body(person={"external_id": "C-1", "language": "de"}),
         "person.language: must be fr or en"),
    ],
)  # fmt: skip
def test_malformed_events_name_their_problem(make_services: ..., raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw, make_services())
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def count(services: Services, model: type) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_event_creates_the_person_and_a_sent_decision_once(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    event = parse_event(body(), services)
    first = receive(event, services=services)
    assert not first.duplicate
    assert (first.outcome, first.reason) == ("sent", "ok")
    assert first.outbox_id is not None
    again = receive(parse_event(body(), services), services=services)
    assert again.duplicate and again.person_id == first.person_id
    assert again.as_json()["status"] == "duplicate"
    assert count(services, TouchpointEventRecord) == 1
    assert count(services, ContactOutboxRecord) == 1
    with services.sessions() as session:
        person = session.get(PersonRecord, first.person_id)
        identities = session.scalars(select(PersonIdentityRecord)).all()
    assert person is not None
    assert (person.kind, person.language, person.time_zone) == (
        "customer", "fr", "America/Montreal",
    )  # fmt: skip
    assert {(i.kind, i.scope, i.value) for i in identities} == {
        ("external", "customer", "C-1001"), ("telegram", "customer", "4242"),
    }  # fmt: skip
    telegram = next(i for i in identities if i.kind == "telegram")
    from bot.channels.telegram.gateway import telegram_pseudonym

    assert telegram.conversation_id == telegram_pseudonym(4242, services.settings)


def test_an_employee_touchpoint_makes_a_customer_both(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    first = receive(parse_event(body(), services), services=services)
    employee = {"external_id": "E-7", "telegram_chat_id": 4242}
    shift = body("evt-2", touchpoint="tools", person=employee)
    second = receive(parse_event(shift, services), services=services)
    assert second.person_id == first.person_id  # the same Telegram user
    with services.sessions() as session:
        person = session.get(PersonRecord, first.person_id)
    assert person is not None and person.kind == "both"
    # One survey per person per 7 days, whether they answer as a customer or an employee.
    assert (second.outcome, second.reason) == ("suppressed", "frequency_cap")


def test_an_upcoming_event_asks_the_expectation_behind_the_same_ledger(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    upcoming = receive(parse_event(body("evt-up", kind="upcoming"), services), services=services)
    assert (upcoming.outcome, upcoming.reason) == ("sent", "ok")
    with services.sessions() as session:
        [row] = session.scalars(select(ContactOutboxRecord)).all()
    assert (row.purpose, row.intent) == ("expectation", "EXTERNAL_ask_expectation")
    assert row.entities == {"touchpoint": "delivery"}
    done = receive(parse_event(body("evt-done"), services), services=services)
    assert done.outcome == "sent"  # the expectation question does not use up the survey cap
