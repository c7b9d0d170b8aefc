"""Tests of bot/privacy/rights.py (and the redacted storage of bot/feedback/intake.py): right of
access,
right to erasure (nothing about the person left in any table), retention purge by age, the
audit log, and redaction at the storage, alert and export boundaries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.company import Company
from bot.domain import Audience, Kind
from bot.feedback.intake import Message, record
from bot.feedback.query import iter_feedback
from bot.privacy.pseudonyms import pseudonym
from bot.privacy.rights import ANONYMOUS, Actor, erase_person, export_person, purge
from bot.services import FixedClock, Services
from bot.storage.models import (
    ActorKind,
    AlertEventRecord,
    AlertOutboxRecord,
    AuditAction,
    Base,
    ConsentRecord,
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

SECRET = "test-secret"  # the VECU_SECRET_KEY of tests/bot/conftest.py's test settings
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MARIE_TEXT = (
    "Je m'appelle Marie Tremblay, le livreur a lancé mon colis CMD-48213. "
    "Rappelez-moi au 514-555-1234 ou marie.tremblay@exemple.ca"
)
MARIE_SECRETS = ("Marie", "Tremblay", "CMD-48213", "514-555-1234", "marie.tremblay@exemple.ca")


@dataclass
class Person:
    """A person seeded in the database, with everything that identifies them."""

    id: str
    chat_id: str
    external_id: str
    conversation_id: str
    feedback_ids: list[int]

    def markers(self) -> tuple[str, ...]:
        """Values that must not survive an erasure, anywhere."""
        return (self.chat_id, self.external_id, self.conversation_id, *MARIE_SECRETS)


def seed_person(
    services: Services,
    *,
    person_id: str,
    chat_id: str,
    external_id: str,
    text: str = MARIE_TEXT,
    at: datetime = NOW,
) -> Person:
    """A customer with a Telegram identity, an external id, consent, an event, a ledger
    decision and outbox row, the closed loop's route (the chat id) and a waiting web inbox
    message, and two feedback (comment + follow-up) with alerts and an alert event: one row
    in every table that can hold something about a person."""
    conversation = pseudonym(chat_id, channel="telegram", secret=SECRET)
    with services.sessions.begin() as session:
        session.add(
            PersonRecord(
                id=person_id,
                kind="customer",
                language="fr",
                time_zone="America/Toronto",
                created_at=at,
                updated_at=at,
            )
        )
        session.flush()
        session.add_all(
            [
                PersonIdentityRecord(
                    person_id=person_id,
                    kind="telegram",
                    scope="customer",
                    value=chat_id,
                    conversation_id=conversation,
                    created_at=at,
                    last_seen_at=at,
                ),
                PersonIdentityRecord(
                    person_id=person_id,
                    kind="external",
                    scope="customer",
                    value=external_id,
                    conversation_id=None,
                    created_at=at,
                    last_seen_at=at,
                ),
                ConsentRecord(
                    person_id=person_id,
                    purpose="surveys",
                    granted=True,
                    source="api",
                    updated_at=at,
                ),
            ]
        )
        event = TouchpointEventRecord(
            event_id=f"evt-{external_id}",
            person_id=person_id,
            touchpoint="delivery",
            kind="done",
            occurred_at=at,
            received_at=at,
            attributes={"crm_id": external_id, "agent_note": text},
        )
        session.add(event)
        session.flush()
        decision = ContactDecisionRecord(
            person_id=person_id,
            event_id=event.id,
            purpose="survey",
            touchpoint="delivery",
            outcome="sent",
            reason="ok",
            detail=None,
            decided_at=at,
        )
        session.add(decision)
        session.flush()
        session.add(
            ContactOutboxRecord(
                person_id=person_id,
                decision_id=decision.id,
                event_id=event.id,
                purpose="survey",
                touchpoint="delivery",
                intent="start_survey",
                entities={"touchpoint": "delivery"},
                status="sent",
                attempts=1,
                next_attempt_at=at,
                channel="telegram",
                created_at=at,
                sent_at=at,
            )
        )
        session.add_all(
            [
                ContactRouteRecord(
                    conversation_id=conversation,
                    audience="customer",
                    channel="telegram",
                    address=chat_id,
                    language="fr",
                    consent=True,
                    consent_at=at,
                    created_at=at,
                    updated_at=at,
                ),
                WebInboxRecord(
                    conversation_id=conversation,
                    messages=[{"text": f"C'est réglé pour le dossier {external_id}."}],
                    created_at=at,
                    read_at=None,
                ),
                DeclinedQuestionRecord(
                    conversation_id=conversation,
                    audience="customer",
                    channel="telegram",
                    language="fr",
                    question="rating",
                    touchpoint="billing",
                    created_at=at,
                ),
            ]
        )
    services.clock = FixedClock(at)
    first = record(
        Message(conversation_id=conversation, text=text, language="fr", channel="telegram"),
        services=services,
    )
    follow = record(
        Message(
            conversation_id=conversation,
            text="Je veux parler à Julie Gagnon, pas à un robot.",
            language="fr",
            channel="telegram",
            parent_id=first.feedback_id,
            kind=Kind.FOLLOWUP,
        ),
        services=services,
    )
    with services.sessions.begin() as session:
        session.add(
            AlertEventRecord(
                feedback_id=first.feedback_id,
                action="acknowledged",
                team="logistics",
                actor_channel="web",
                actor_id="agent-7",
                actor_name="Agent Seven",
                note=f"Rappeler le client {external_id}",
                created_at=at,
            )
        )
    return Person(
        person_id, chat_id, external_id, conversation, [first.feedback_id, follow.feedback_id]
    )


def every_cell(services: Services) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table of the schema, as (table, {column: value})."""
    out = []
    with services.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                out.append((table.name, dict(row)))
    return out


def mentions(row: dict[str, Any], marker: str) -> bool:
    return marker in json.dumps(row, default=str, ensure_ascii=False)


@pytest.fixture
def services(make_services: Any, fakes: Any) -> Services:
    return make_services(fakes.ANGRY, clock=FixedClock(NOW))  # type: ignore[no-any-return]


# ---- redaction at the boundaries ----------------------------------------------------------------


def test_feedback_is_stored_redacted_and_alerts_carry_the_redacted_excerpt(
    services: Services,
) -> None:
    marie = seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    with services.sessions() as session:
        row = session.get(FeedbackRecord, marie.feedback_ids[0])
        assert row is not None and row.redacted and row.raw_text is None
        assert "[NOM]" in row.text and "[COMMANDE]" in row.text and "[COURRIEL]" in row.text
        for secret in MARIE_SECRETS:
            assert secret not in row.text
        alerts = list(session.scalars(select(AlertOutboxRecord)))
        assert alerts, "an angry delivery complaint alerts logistics"
        for alert in alerts:
            for secret in MARIE_SECRETS:
                assert secret not in json.dumps(alert.payload, ensure_ascii=False)
            assert "[NOM]" in str(alert.payload["excerpt"])


def test_raw_text_is_kept_only_when_configured(
    make_services: Any, fakes: Any, company: Company
) -> None:
    keeping = company.model_copy(
        update={"privacy": company.privacy.model_copy(update={"keep_raw_text": True})}
    )
    services = make_services(fakes.NEUTRAL, company_config=keeping)
    outcome = record(
        Message(conversation_id="p_" + "1" * 32, text=MARIE_TEXT, language="fr"),
        services=services,
    )
    with services.sessions() as session:
        row = session.get(FeedbackRecord, outcome.feedback_id)
        assert row is not None and row.raw_text == MARIE_TEXT and "Marie" not in row.text


def test_exports_redact_rows_stored_before_redaction(services: Services) -> None:
    with services.sessions.begin() as session:
        session.add(
            FeedbackRecord(
                conversation_id="p_" + "2" * 32,
                audience="customer",
                channel="web",
                language="en",
                kind="comment",
                touchpoint=None,
                touchpoint_source="none",
                text="Call John Smith at 613-555-0199",
                original_length=31,
                truncated=False,
                sentiment_label="neutral",
                sentiment_scores={},
                emotion_label="neutral",
                emotion_scores={},
                model_version="legacy",
                team=None,
                severity="low",
                confidential=False,
                negative=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    [view] = list(iter_feedback(services=services))
    assert view.text == "Call [NAME] at [PHONE]"


# ---- right of access ----------------------------------------------------------------------------


def test_export_is_complete_and_audited(services: Services) -> None:
    marie = seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    other = seed_person(
        services,
        person_id="b" * 32,
        chat_id="777000222",
        external_id="CRM-992",
        text="Livraison correcte.",
    )
    with services.sessions.begin() as session:
        document = export_person(session=session, person_id=marie.id, actor=Actor.cli(), now=NOW)
    assert document is not None
    assert document["person"]["id"] == marie.id
    assert {i["value"] for i in document["identities"]} == {marie.chat_id, marie.external_id}
    assert [c["purpose"] for c in document["consents"]] == ["surveys"]
    assert [e["event_id"] for e in document["events"]] == ["evt-CRM-991"]
    assert document["events"][0]["attributes"]["crm_id"] == "CRM-991"
    assert len(document["contact_decisions"]) == 1 and len(document["contact_outbox"]) == 1
    assert sorted(f["id"] for f in document["feedback"]) == marie.feedback_ids
    assert document["alerts"] and document["routing_decisions"] and document["alert_events"]
    assert {a["feedback_id"] for a in document["alerts"]} <= set(marie.feedback_ids)
    [route] = document["contact_routes"]
    assert (route["address"], route["consent"]) == (marie.chat_id, True)
    [inbox] = document["web_inbox"]
    assert inbox["conversation_id"] == marie.conversation_id and "CRM-991" in str(inbox)
    [skipped] = document["declined_questions"]
    assert (skipped["conversation_id"], skipped["question"]) == (marie.conversation_id, "rating")
    text = json.dumps(document, ensure_ascii=False)
    assert other.chat_id not in text and other.external_id not in text
    assert other.conversation_id not in text
    with services.sessions() as session:
        [row] = session.scalars(select(PrivacyAuditRecord)).all()
    assert (row.action, row.person_id, row.actor_kind) == ("export", marie.id, ActorKind.CLI.value)
    assert row.detail["counts"]["feedback"] == 2
    assert json.dumps(row.detail).find("Marie") == -1


def test_export_of_an_unknown_person_is_none_and_not_audited(services: Services) -> None:
    with services.sessions.begin() as session:
        assert (
            export_person(session=session, person_id="z" * 32, actor=Actor.cli(), now=NOW) is None
        )
    with services.sessions() as session:
        assert session.scalars(select(PrivacyAuditRecord)).all() == []


# ---- right to erasure ---------------------------------------------------------------------------


def test_erase_leaves_nothing_about_the_person_in_any_table(services: Services) -> None:
    marie = seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    other = seed_person(
        services,
        person_id="b" * 32,
        chat_id="777000222",
        external_id="CRM-992",
        text="Livraison en retard encore une fois.",
    )
    before = every_cell(services)
    assert any(mentions(row, marie.chat_id) for _, row in before)

    with services.sessions.begin() as session:
        report = erase_person(
            session=session, person_id=marie.id, actor=Actor.token("tok"), now=NOW
        )
    assert report is not None
    assert report.feedback_anonymised == 2 and report.identities == 2 and report.events == 1
    assert (report.contact_routes, report.web_inbox, report.declined_questions) == (1, 1, 1)

    after = every_cell(services)
    for table, row in after:
        for marker in marie.markers():
            assert not mentions(row, marker), (table, marker, row)
        if table != "privacy_audit":
            assert not mentions(row, marie.id), (table, row)
    # what remains of her feedback: anonymised aggregates only
    with services.sessions() as session:
        rows = [session.get(FeedbackRecord, i) for i in marie.feedback_ids]
        for row in rows:
            assert row is not None
            assert (row.text, row.raw_text, row.conversation_id, row.parent_id) == (
                "",
                None,
                ANONYMOUS,
                None,
            )
            assert row.touchpoint == "delivery" and row.sentiment_label == "negative"
            assert row.created_at == NOW.replace(hour=0)
        for model in (RoutingDecisionRecord, AlertOutboxRecord, AlertEventRecord):
            assert (
                session.scalars(
                    select(model).where(model.feedback_id.in_(marie.feedback_ids))
                ).all()
                == []
            )
        # the other customer is untouched
        kept = session.scalars(
            select(FeedbackRecord).where(FeedbackRecord.conversation_id == other.conversation_id)
        ).all()
        assert len(kept) == 2
        assert session.get(PersonRecord, other.id) is not None
        for model in (ContactRouteRecord, WebInboxRecord, DeclinedQuestionRecord):
            assert session.scalars(select(model.conversation_id)).all() == [other.conversation_id]
        [audit_row] = session.scalars(select(PrivacyAuditRecord)).all()
    assert audit_row.action == AuditAction.ERASE.value
    assert audit_row.actor_kind == "api_token" and audit_row.actor.startswith("token:")
    assert audit_row.actor == Actor.token("tok").name  # a fingerprint, never the token
    assert audit_row.detail["feedback_anonymised"] == 2


def test_erase_of_an_unknown_person_changes_nothing(services: Services) -> None:
    seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    before = every_cell(services)
    with services.sessions.begin() as session:
        assert erase_person(session=session, person_id="z" * 32, actor=Actor.cli(), now=NOW) is None
    assert every_cell(services) == before


# ---- retention ----------------------------------------------------------------------------------


def test_purge_anonymises_by_age_and_keeps_recent_data(services: Services) -> None:
    old_at = NOW - timedelta(days=400)
    old = seed_person(services, person_id="c" * 32, chat_id="111", external_id="CRM-OLD", at=old_at)
    recent = seed_person(
        services,
        person_id="d" * 32,
        chat_id="222",
        external_id="CRM-NEW",
        at=NOW - timedelta(days=10),
        text="Livraison en retard, Mme Roy.",
    )
    with services.sessions.begin() as session:
        report = purge(session=session, company=services.company, now=NOW)
    assert (report.feedback, report.events, report.contact_decisions, report.persons) == (
        2,
        1,
        1,
        1,
    )
    assert (report.contact_outbox, report.contact_routes, report.web_inbox) == (1, 1, 1)
    assert report.declined_questions == 1
    with services.sessions() as session:
        for feedback_id in old.feedback_ids:
            row = session.get(FeedbackRecord, feedback_id)
            assert row is not None and row.conversation_id == ANONYMOUS and row.text == ""
        for feedback_id in recent.feedback_ids:
            row = session.get(FeedbackRecord, feedback_id)
            assert row is not None and row.conversation_id == recent.conversation_id
        assert session.get(PersonRecord, old.id) is None
        assert session.get(PersonRecord, recent.id) is not None
        assert session.scalars(select(TouchpointEventRecord.event_id)).all() == ["evt-CRM-NEW"]
        for model in (ContactRouteRecord, WebInboxRecord, DeclinedQuestionRecord):
            assert session.scalars(select(model.conversation_id)).all() == [recent.conversation_id]
        [audit_row] = session.scalars(select(PrivacyAuditRecord)).all()
    assert (audit_row.action, audit_row.actor_kind, audit_row.person_id) == (
        "purge",
        "system",
        None,
    )
    # a second run finds nothing more to do
    with services.sessions.begin() as session:
        again = purge(session=session, company=services.company, now=NOW)
    assert (again.feedback, again.events, again.persons) == (0, 0, 0)


def test_purge_can_delete_instead(services: Services, company: Company) -> None:
    seed_person(
        services,
        person_id="c" * 32,
        chat_id="111",
        external_id="CRM-OLD",
        at=NOW - timedelta(days=40),
    )
    deleting = company.model_copy(
        update={"privacy": company.privacy.model_copy(update={"retention_action": "delete"})}
    )
    with services.sessions.begin() as session:
        report = purge(session=session, company=deleting, now=NOW, retention_days=30)
    assert report.feedback == 2 and report.action == "delete"
    with services.sessions() as session:
        assert session.scalars(select(FeedbackRecord)).all() == []
        assert session.scalars(select(AlertOutboxRecord)).all() == []


def test_purge_redacts_text_stored_before_redaction(services: Services) -> None:
    with services.sessions.begin() as session:
        session.add(
            FeedbackRecord(
                conversation_id="p_" + "3" * 32,
                audience=Audience.CUSTOMER.value,
                channel="web",
                language="fr",
                kind="comment",
                touchpoint=None,
                touchpoint_source="none",
                text="Écrivez à luc@exemple.ca",
                original_length=24,
                truncated=False,
                sentiment_label="neutral",
                sentiment_scores={},
                emotion_label="neutral",
                emotion_scores={},
                model_version="legacy",
                team=None,
                severity="low",
                confidential=False,
                negative=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with services.sessions.begin() as session:
        report = purge(session=session, company=services.company, now=NOW)
    assert report.redacted == 1
    with services.sessions() as session:
        [row] = session.scalars(select(FeedbackRecord)).all()
    assert (row.text, row.redacted) == ("Écrivez à [COURRIEL]", True)


def test_retention_must_outlast_the_frequency_caps(company: Company) -> None:
    from bot.company import parse_company
    from bot.errors import ConfigurationError

    data = company.model_dump(mode="json")
    data["privacy"]["retention_days"] = 20  # the touchpoint cap looks back 30 days
    with pytest.raises(ConfigurationError, match=r"privacy\.retention_days: 20 days"):
        parse_company(data)


def test_a_redaction_failure_loses_nothing_and_readers_redact_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.feedback.intake
    import bot.privacy.redaction

    real = bot.privacy.redaction.redact

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model crashed")

    monkeypatch.setattr(bot.privacy.redaction, "redact", broken)
    monkeypatch.setattr(bot.feedback.intake, "redact", broken)
    outcome = record(
        Message(conversation_id="p_" + "4" * 32, text=MARIE_TEXT, language="fr"),
        services=services,
    )
    with services.sessions() as session:
        row = session.get(FeedbackRecord, outcome.feedback_id)
        assert row is not None and row.text == MARIE_TEXT and row.redacted is False
    monkeypatch.setattr(bot.privacy.redaction, "redact", real)
    [view] = list(iter_feedback(services=services))
    assert "Marie" not in view.text and "[COURRIEL]" in view.text


# ---- issue 18: Rasa's SQL tracker store in the same database (scaled deployments) ---------------


def rasa_events_table(services: Services) -> Any:
    """Rasa's ``events`` table, as ``rasa.core.tracker_store.SQLTrackerStore`` creates it."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    table = sa.Table(
        "events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
    metadata.create_all(services.engine)
    return table


def seed_rasa_events(services: Services, table: Any, sender: str, text: str, at: datetime) -> None:
    with services.engine.begin() as connection:
        for type_name, said in (("user", text), ("bot", "Merci, je transmets."), ("slot", None)):
            data = {"event": type_name, "timestamp": at.timestamp()}
            if said is not None:
                data["text"] = said
            connection.execute(
                table.insert().values(
                    sender_id=sender,
                    type_name=type_name,
                    timestamp=at.timestamp(),
                    data=json.dumps(data),
                )
            )


def rasa_senders(services: Services, table: Any) -> list[str]:
    with services.engine.connect() as connection:
        return [row[0] for row in connection.execute(select(table.c.sender_id))]


def test_rasa_events_are_exported_and_erased_with_the_person(services: Services) -> None:
    table = rasa_events_table(services)
    marie = seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    other = seed_person(services, person_id="b" * 32, chat_id="777000222", external_id="CRM-992")
    seed_rasa_events(services, table, marie.conversation_id, MARIE_TEXT, NOW)
    seed_rasa_events(services, table, other.conversation_id, "Livraison en retard.", NOW)

    with services.sessions.begin() as session:
        document = export_person(session=session, person_id=marie.id, actor=Actor.cli(), now=NOW)
    assert document is not None
    assert [(m["from"], m["text"]) for m in document["conversation"]] == [
        ("person", MARIE_TEXT),  # her own words, as she wrote them: they are her data
        ("assistant", "Merci, je transmets."),
    ]
    with services.sessions.begin() as session:
        report = erase_person(session=session, person_id=marie.id, actor=Actor.cli(), now=NOW)
    assert report is not None and report.conversation_events == 3
    assert rasa_senders(services, table) == [other.conversation_id] * 3


def test_purge_deletes_rasa_events_after_conversation_days(services: Services) -> None:
    table = rasa_events_table(services)
    seed_rasa_events(services, table, "p_old", MARIE_TEXT, NOW - timedelta(days=2))
    seed_rasa_events(services, table, "p_new", "Bonjour", NOW - timedelta(hours=3))
    with services.sessions.begin() as session:
        report = purge(session=session, company=services.company, now=NOW)
    assert report.conversation_events == 3
    assert rasa_senders(services, table) == ["p_new"] * 3


def test_without_rasa_events_the_privacy_functions_skip_them(services: Services) -> None:
    marie = seed_person(services, person_id="a" * 32, chat_id="555000111", external_id="CRM-991")
    with services.sessions.begin() as session:
        document = export_person(session=session, person_id=marie.id, actor=Actor.cli(), now=NOW)
        report = purge(session=session, company=services.company, now=NOW)
    assert document is not None and document["conversation"] == []
    assert report.conversation_events == 0
