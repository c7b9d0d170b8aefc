"""Tests of bot/contact/ledger.py: consent, opt-out, caps, quiet hours, open issues, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.company import ContactPolicy, QuietHours
from bot.contact import ledger, routes
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.privacy.persons import IdentityRef, resolve
from bot.privacy.pseudonyms import pseudonym
from bot.services import FixedClock, Services
from bot.storage.models import (
    ContactDecisionRecord,
    ContactOutboxRecord,
    IdentityKind,
    PersonRecord,
)

SECRET = "test-secret"
DAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in Toronto
POLICY = ContactPolicy()


def person(services: Services, chat: str | None = "4242", external: str = "C-1") -> PersonRecord:
    refs = [IdentityRef(IdentityKind.EXTERNAL, external, "customer")]
    if chat:
        refs.append(IdentityRef(IdentityKind.TELEGRAM, chat, "customer"))
    with services.sessions.begin() as session:
        found = resolve(session=session, identities=refs, audience="customer", secret=SECRET,
                        now=services.clock(), language="fr")  # fmt: skip
        session.expunge(found)
        return found


def decide(services: Services, who: PersonRecord, touchpoint: str = "delivery",
           purpose: ledger.Purpose = ledger.Purpose.SURVEY,
           policy: ContactPolicy = POLICY) -> ledger.Verdict:  # fmt: skip
    with services.sessions.begin() as session:
        row = session.get(PersonRecord, who.id)
        assert row is not None
        verdict = ledger.decide(session=session, person=row, purpose=purpose,
                                touchpoint=touchpoint, audience="customer", policy=policy,
                                now=services.clock())  # fmt: skip
        ledger.record(session=session, person=row, verdict=verdict, purpose=purpose,
                      touchpoint=touchpoint, now=services.clock(),
                      entities={"touchpoint": touchpoint})  # fmt: skip
        return verdict


def test_first_survey_is_sent_then_capped_per_person_and_per_touchpoint(
    make_services: ...,
) -> None:
    clock = FixedClock(DAY)
    services = make_services(clock=clock)
    who = person(services)
    first = decide(services, who)
    assert (first.outcome, first.reason, first.channel) == ("sent", "ok", "telegram")

    clock.advance(86_400)  # the next day: another touchpoint, still within 7 days
    second = decide(services, who, touchpoint="billing")
    assert (second.outcome, second.reason) == ("suppressed", "frequency_cap")
    assert "per person per 7 days" in (second.detail or "")

    clock.advance(7 * 86_400)  # past the person cap, within the touchpoint's 30 days
    third = decide(services, who)
    assert (third.outcome, third.reason) == ("suppressed", "frequency_cap")
    assert "per touchpoint per 30 days" in (third.detail or "")
    fourth = decide(services, who, touchpoint="billing")
    assert fourth.outcome == "sent"

    with services.sessions() as session:
        reasons = session.scalars(
            select(ContactDecisionRecord.reason).order_by(ContactDecisionRecord.id)
        ).all()
        queued = session.scalars(select(ContactOutboxRecord)).all()
    assert reasons == ["ok", "frequency_cap", "frequency_cap", "ok"]
    assert [row.intent for row in queued] == ["EXTERNAL_survey", "EXTERNAL_survey"]


def test_caps_come_from_the_policy(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    who = person(services)
    loose = ContactPolicy(survey_per_person_days=0, survey_per_touchpoint_days=0)
    assert decide(services, who, policy=loose).outcome == "sent"
    assert decide(services, who, policy=loose).outcome == "sent"


def test_expectation_questions_are_counted_apart_from_surveys(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    who = person(services)
    assert decide(services, who, purpose=ledger.Purpose.EXPECTATION).outcome == "sent"
    assert decide(services, who).outcome == "sent"
    again = decide(services, who, purpose=ledger.Purpose.EXPECTATION, touchpoint="billing")
    assert again.reason == "frequency_cap"


def test_quiet_hours_defer_to_their_end_in_the_persons_time_zone(make_services: ...) -> None:
    night = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 22:30 in Toronto, 04:30 in Paris
    services = make_services(clock=FixedClock(night))
    who = person(services)
    verdict = decide(services, who)
    assert (verdict.outcome, verdict.reason) == ("deferred", "quiet_hours")
    assert verdict.not_before == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 Toronto
    with services.sessions() as session:
        [row] = session.scalars(select(ContactOutboxRecord)).all()
    assert row.status == "pending" and row.next_attempt_at == verdict.not_before


def test_quiet_hours_window_arithmetic() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    policy = ContactPolicy(quiet_hours=QuietHours(start="12:00", end="14:00"))
    noon_paris = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)  # 12:30 in Paris
    assert ledger.quiet_until(noon_paris, paris, policy) == datetime(
        2026, 11, 23, 13, 0, tzinfo=UTC
    )
    assert ledger.quiet_until(noon_paris - timedelta(hours=2), paris, policy) is None
    assert ledger.quiet_until(noon_paris, paris, ContactPolicy(quiet_hours=None)) is None
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Paris: until 08:00 next day
    assert ledger.quiet_until(late, paris, POLICY) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def test_opt_out_wins_everywhere_and_cancels_what_waits(make_services: ...) -> None:
    night = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    clock = FixedClock(night)
    services = make_services(clock=clock)
    who = person(services)
    assert decide(services, who).outcome == "deferred"
    # "STOP" said on the web chat of the same person (linked by their web session).
    with services.sessions.begin() as session:
        resolve(session=session, identities=[IdentityRef(IdentityKind.EXTERNAL, "C-1", "customer"),
                IdentityRef(IdentityKind.WEB, "sess-9")], audience="customer", secret=SECRET,
                now=clock())  # fmt: skip
    web_conversation = pseudonym("sess-9", channel="web", secret=SECRET)
    person_id = routes.opt_out_conversation(
        web_conversation, channel="web", audience="customer", services=services
    )
    assert person_id == who.id
    with services.sessions() as session:
        [row] = session.scalars(select(ContactOutboxRecord)).all()
        last = session.scalars(
            select(ContactDecisionRecord).order_by(ContactDecisionRecord.id.desc())
        ).first()
    assert row.status == "cancelled"
    assert last is not None and (last.outcome, last.reason) == ("suppressed", "opted_out")
    clock.advance(30 * 86_400)
    verdict = decide(services, who)
    assert (verdict.outcome, verdict.reason) == ("suppressed", "opted_out")


def test_opt_out_of_an_unknown_conversation_holds_for_later_events(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    conversation = pseudonym("777", channel="telegram", secret=SECRET)
    opted = routes.opt_out_conversation(
        conversation, channel="telegram", audience="customer", services=services
    )
    who = person(services, chat="777", external="C-77")  # the first event naming them
    assert who.id == opted
    assert decide(services, who).reason == "opted_out"


def test_no_channel_and_no_consent(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    unreachable = person(services, chat=None, external="C-2")
    verdict = decide(services, unreachable)
    assert (verdict.outcome, verdict.reason) == ("suppressed", "no_channel")
    who = person(services, chat="55", external="C-3")
    closed = ContactPolicy(default_consent=False)
    assert decide(services, who, policy=closed).reason == "no_consent"
    with services.sessions.begin() as session:
        ledger.set_consent(session=session, person_id=who.id, purpose="surveys", granted=True,
                           source="api", now=services.clock())  # fmt: skip
    assert decide(services, who, policy=closed).outcome == "sent"


def test_no_survey_while_an_issue_of_theirs_is_open(make_services: ..., fakes: ...) -> None:
    clock = FixedClock(DAY)
    services = make_services(fakes.ANGRY, clock=clock)
    who = person(services, chat="4242")
    conversation = pseudonym("4242", channel="telegram", secret=SECRET)
    outcome = record(
        Message(conversation_id=conversation, text="Mon colis est arrivé écrasé !",
                language="fr", audience=Audience.CUSTOMER, channel="telegram"),
        services=services,
    )  # fmt: skip
    assert outcome.negative
    verdict = decide(services, who)
    assert (verdict.outcome, verdict.reason) == ("suppressed", "open_issue")
    with services.sessions.begin() as session:
        from bot.storage.models import FeedbackRecord

        row = session.get(FeedbackRecord, outcome.feedback_id)
        assert row is not None
        row.status = "resolved"
    assert decide(services, who).outcome == "sent"


def test_a_web_only_person_is_reached_through_the_web_inbox(make_services: ...) -> None:
    services = make_services(clock=FixedClock(DAY))
    refs = [IdentityRef(IdentityKind.EXTERNAL, "C-W", "customer"),
            IdentityRef(IdentityKind.WEB, "sess-web-1", "")]  # fmt: skip
    with services.sessions.begin() as session:
        web_only = resolve(session=session, identities=refs, audience="customer", secret=SECRET,
                           now=services.clock(), language="fr")  # fmt: skip
        session.expunge(web_only)
    verdict = decide(services, web_only)
    assert (verdict.outcome, verdict.reason, verdict.channel) == ("sent", "ok", "web")
    # a Telegram chat with the audience's bot is preferred once they have one
    both = person(services, chat="4343", external="C-W")
    assert both.id == web_only.id
    with services.sessions() as session:
        found = ledger.reachable_channel(session=session, person_id=both.id, audience="customer")
        assert found == "telegram"
        assert ledger.reachable_channel(
            session=session, person_id=both.id, audience="employee"
        ) == ("web")
