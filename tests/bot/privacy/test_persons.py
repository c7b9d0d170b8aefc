"""Tests of bot/privacy/persons.py: resolving, linking, merging, finding and deleting a person."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.contact import routes
from bot.domain import Audience
from bot.feedback.intake import Message, record
from bot.privacy.persons import (
    IdentityRef,
    delete_person,
    ensure_for_conversation,
    find_by_identity,
    linked,
    resolve,
    resolve_person_ref,
)
from bot.privacy.pseudonyms import pseudonym
from bot.services import FixedClock
from bot.storage.models import ConsentRecord, FeedbackRecord, IdentityKind, PersonRecord

SECRET = "test-secret"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def ref(kind: IdentityKind, value: str, scope: str = "customer") -> IdentityRef:
    return IdentityRef(kind, value, scope if kind != IdentityKind.WEB else "")


def test_identities_link_one_person_and_find_their_feedback(make_services: ...) -> None:
    services = make_services(clock=FixedClock(NOW))
    with services.sessions.begin() as session:
        first = resolve(session=session, identities=[ref(IdentityKind.EXTERNAL, "C-1")],
                        audience="customer", secret=SECRET, now=NOW)  # fmt: skip
        again = resolve(session=session, identities=[ref(IdentityKind.EXTERNAL, "C-1"),
                        ref(IdentityKind.TELEGRAM, "42"), ref(IdentityKind.WEB, "sess-1")],
                        audience="customer", secret=SECRET, now=NOW, language="en")  # fmt: skip
        assert again.id == first.id and again.language == "en"
    web = pseudonym("sess-1", channel="web", secret=SECRET)
    telegram = pseudonym("42", channel="telegram", secret=SECRET)
    for conversation, channel in ((web, "web"), (telegram, "telegram"), ("p_" + "f" * 32, "web")):
        record(Message(conversation_id=conversation, text="Très bien", language="fr",
                       audience=Audience.CUSTOMER, channel=channel), services=services)  # fmt: skip
    with services.sessions() as session:
        links = linked(session=session, person_id=first.id)
        assert links is not None
        assert links.conversation_ids == sorted([web, telegram])
        assert {f.conversation_id for f in links.feedback} == {web, telegram}  # not the stranger
        for text in (first.id, "external:C-1", "telegram:42", "web:sess-1", telegram):
            found = resolve_person_ref(session=session, ref=text, secret=SECRET)
            assert found is not None and found.id == first.id, text
        assert resolve_person_ref(session=session, ref="external:nobody", secret=SECRET) is None
        assert find_by_identity(session=session, kind="telegram", value="42").id == first.id


def test_two_records_of_one_human_merge_and_keep_the_opt_out(make_services: ...) -> None:
    services = make_services(clock=FixedClock(NOW))
    conversation = pseudonym("77", channel="telegram", secret=SECRET)
    with services.sessions.begin() as session:
        stranger = ensure_for_conversation(
            session=session, conversation_id=conversation, channel="telegram",
            audience="customer", now=NOW,
        )  # fmt: skip
        routes.opt_out(session=session, person_id=stranger.id, source="opt_out:telegram", now=NOW)
        known = resolve(session=session, identities=[ref(IdentityKind.EXTERNAL, "C-9")],
                        audience="employee", secret=SECRET, now=NOW)  # fmt: skip
        assert known.id != stranger.id
        merged = resolve(session=session, identities=[ref(IdentityKind.EXTERNAL, "C-9"),
                         ref(IdentityKind.TELEGRAM, "77")], audience="customer", secret=SECRET,
                         now=NOW)  # fmt: skip
        survivor = merged.id
    with services.sessions() as session:
        assert session.scalars(select(PersonRecord.id)).all() == [survivor]
        person = session.get(PersonRecord, survivor)
        assert person is not None and person.kind == "both"
        consents = session.scalars(select(ConsentRecord)).all()
        assert {(c.person_id, c.purpose, c.granted) for c in consents} == {
            (survivor, "surveys", False), (survivor, "followup", False),
        }  # fmt: skip


def test_delete_person_removes_the_ledger_but_not_the_feedback(make_services: ...) -> None:
    services = make_services(clock=FixedClock(NOW))
    with services.sessions.begin() as session:
        person = resolve(session=session, identities=[ref(IdentityKind.TELEGRAM, "5")],
                         audience="customer", secret=SECRET, now=NOW)  # fmt: skip
        routes.opt_out(session=session, person_id=person.id, source="api", now=NOW)
        person_id = person.id
    conversation = pseudonym("5", channel="telegram", secret=SECRET)
    message = Message(conversation_id=conversation, text="ok", language="fr")
    record(message, services=services)
    with services.sessions.begin() as session:
        assert delete_person(session=session, person_id=person_id)
        assert not delete_person(session=session, person_id=person_id)
    with services.sessions() as session:
        assert linked(session=session, person_id=person_id) is None
        assert session.scalars(select(ConsentRecord)).all() == []
        assert len(session.scalars(select(FeedbackRecord)).all()) == 1
