"""Tests of bot/alerts/inbox.py: what a team's inbox lists, in which order, and what it hides."""

from __future__ import annotations

from typing import Any

import pytest

from bot.alerts.inbox import open_alerts
from bot.alerts.workflow import Actor, Transition, apply
from bot.domain import Audience
from bot.feedback.intake import Message, record

ALEX = Actor("dashboard", "user:1", "alex@example.org")


def said(services: Any, text: str, *, who: str, language: str = "en", **extra: Any) -> int:
    audience = extra.pop("audience", "customer")
    message = Message(
        conversation_id=who, text=text, language=language, audience=audience, channel="web",
        **extra,
    )  # fmt: skip
    return record(message, services=services).feedback_id


def test_most_severe_first_then_newest_and_resolved_ones_leave(
    make_services: Any, fakes: Any
) -> None:
    clock = fakes.FixedClock()
    angry = make_services(fakes.ANGRY, clock=clock)
    first = said(angry, "My parcel never arrived, it is a disgrace", who="c1", rating=1)
    clock.advance(600)
    unhappy = make_services(fakes.UNHAPPY, clock=clock)
    second = said(unhappy, "The invoice is a bit confusing", who="c2")
    clock.advance(600)
    third = said(angry, "The delivery driver was rude to me, awful", who="c3", rating=1)
    happy = make_services(fakes.HAPPY, clock=clock)
    said(happy, "Lovely delivery, thank you", who="c4")  # praise: no issue, not listed

    inbox = open_alerts(teams=None, services=angry)
    ids = [item.feedback_id for item in inbox.items]
    assert set(ids) == {first, second, third} and inbox.total == 3
    severities = [item.severity for item in inbox.items]
    assert severities[0] == "urgent" and severities[-1] != "urgent", severities
    assert ids[:2] == [third, first]  # both urgent: the newest first

    apply(third, Transition.RESOLVE, ALEX, services=angry)
    apply(first, Transition.ACKNOWLEDGE, ALEX, services=angry)
    inbox = open_alerts(teams=None, services=angry)
    assert [i.feedback_id for i in inbox.items] == [first, second]
    [taken] = [i for i in inbox.items if i.feedback_id == first]
    assert taken.status == "acknowledged" and taken.last_action is not None
    assert (taken.last_action.action, taken.last_action.actor) == (
        "acknowledged", "alex@example.org"
    )  # fmt: skip
    only_open = open_alerts(teams=None, status="open", services=angry)
    assert [i.feedback_id for i in only_open.items] == [second]
    with pytest.raises(ValueError):
        open_alerts(teams=None, status="resolved", services=angry)


def test_teams_filter_limit_and_total(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    delivery = said(services, "my parcel is lost and nobody answers", who="a")
    billing = said(services, "I was charged twice on my invoice", who="b")
    team_of = {i.feedback_id: i.team for i in open_alerts(teams=None, services=services).items}
    assert team_of[delivery] != team_of[billing]
    mine = open_alerts(teams=[team_of[billing]], services=services)
    assert [i.feedback_id for i in mine.items] == [billing]
    assert open_alerts(teams=[], services=services).total == 0
    one = open_alerts(teams=None, limit=1, services=services)
    assert len(one.items) == 1 and one.total == 2


def test_the_text_is_redacted_confidential_hidden_and_the_age_read_against_the_sla(
    make_services: Any, fakes: Any
) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    shown = said(
        services, "Call me at 514-555-0199, my parcel is lost", who="c", rating=1,
    )  # fmt: skip
    hidden = said(
        services, "Mon gestionnaire me harcèle depuis des semaines", who="p_emp", language="fr",
        audience=Audience.EMPLOYEE,
    )  # fmt: skip
    clock.advance(5 * 3600)
    items = {i.feedback_id: i for i in open_alerts(teams=None, services=services).items}
    assert "514-555-0199" not in str(items[shown].excerpt) and "parcel" in str(items[shown].excerpt)
    assert items[hidden].excerpt is None and items[hidden].audience == "employee"
    assert "p_emp" not in repr(items[hidden])  # an employee stays pseudonymous
    urgent = items[shown]
    assert urgent.severity == "urgent" and urgent.sla_hours == 4
    assert urgent.age_hours == pytest.approx(5) and urgent.overdue
