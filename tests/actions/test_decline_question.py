"""Tests of actions/decline_question.py and the extract methods: any question may be declined."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import ANGRY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import SKIPPED
from actions.decline_question import ActionRecordDecline, ValidateFollowupForm, skip_if_declined
from actions.lefranc_forms import ValidateTouchpointPulseForm
from actions.record_feedback import ActionRecordFeedback
from actions.record_followup import ActionRecordFollowup
from actions.record_pulse import ActionRecordPulse
from actions.validate_ratings import ValidateFeedbackForm, ValidatePulseForm
from bot.feedback.query import query
from bot.services import Services
from bot.storage.models import DeclinedQuestionRecord


def declined(services: Services) -> list[tuple[str, str | None, int | None]]:
    with services.sessions() as session:
        rows = session.scalars(select(DeclinedQuestionRecord).order_by(DeclinedQuestionRecord.id))
        return [(r.question, r.touchpoint, r.feedback_id) for r in rows]


def asked(slot: str, text: str, intent: str, **slots: Any) -> Any:
    return make_tracker(
        text, intent=intent, slots={"language": "fr", "requested_slot": slot, **slots}
    )


@pytest.mark.parametrize(
    ("text", "intent"), [("non merci", "deny"), ("je sais pas", "decline"), ("/deny", "deny")]
)
async def test_a_declined_rating_is_skipped_and_recorded(
    services: Services, text: str, intent: str
) -> None:
    tracker = asked("rating", text, intent, touchpoint="delivery")
    found = await ValidateFeedbackForm().extract_rating(CollectingDispatcher(), tracker, {})
    assert found == {"rating": SKIPPED}
    assert declined(services) == [("rating", "delivery", None)]
    # the validation keeps the skip instead of refusing it as an invalid rating
    dispatcher = CollectingDispatcher()
    assert ValidateFeedbackForm().validate_rating(SKIPPED, dispatcher, tracker, {}) == {
        "rating": SKIPPED
    }
    assert dispatcher.messages == []


async def test_only_the_question_being_asked_is_skipped(services: Services) -> None:
    form = ValidateFeedbackForm()
    dispatcher = CollectingDispatcher()
    assert (
        await form.extract_comment(dispatcher, asked("rating", "je sais pas", "decline"), {}) == {}
    )
    assert await form.extract_rating(dispatcher, asked("rating", "/rate", "rate"), {}) == {}
    answered = asked("rating", "je sais pas", "decline", rating=4)
    assert await form.extract_rating(dispatcher, answered, {}) == {}
    assert declined(services) == []


async def test_free_text_is_skipped_only_on_a_short_decline(services: Services) -> None:
    form = ValidateFeedbackForm()
    dispatcher = CollectingDispatcher()
    # "non" may begin an answer: a free-text question is not skipped on deny
    assert (
        await form.extract_comment(dispatcher, asked("comment", "non c'est nul", "deny"), {}) == {}
    )
    long = "je sais pas quoi dire mais le livreur a jeté mon colis par-dessus la clôture"
    kept = await form.extract_comment(dispatcher, asked("comment", long, "decline"), {})
    assert kept == {"comment": long}  # words NLU read as a decline are kept, not dropped
    assert await form.extract_comment(dispatcher, asked("comment", "skip", "decline"), {}) == {
        "comment": SKIPPED
    }
    assert [q for q, _, _ in declined(services)] == ["comment"]


async def test_every_form_question_can_be_skipped(services: Services) -> None:
    d = CollectingDispatcher()
    pulse = ValidatePulseForm()
    assert await pulse.extract_enps(d, asked("enps", "plus tard", "decline"), {}) == {
        "enps": SKIPPED
    }
    assert await pulse.extract_engagement(d, asked("engagement", "non", "deny"), {}) == {
        "engagement": SKIPPED
    }
    assert await pulse.extract_pulse_text(d, asked("pulse_text", "pass", "decline"), {}) == {
        "pulse_text": SKIPPED
    }
    followup = await ValidateFollowupForm().extract_followup(
        d, asked("followup", "aucune idée", "decline"), {}
    )
    assert followup == {"followup": SKIPPED}
    # a declined touchpoint leaves nothing to ask about
    lefranc = await ValidateTouchpointPulseForm().extract_touchpoint(
        d, asked("touchpoint", "je préfère pas", "decline"), {}
    )
    assert lefranc == {"touchpoint": SKIPPED, "means": SKIPPED, "mirror": SKIPPED}
    questions = [q for q, _, _ in declined(services)]
    assert questions == ["enps", "engagement", "pulse_text", "followup", "touchpoint"]


async def test_the_rating_after_unprompted_feedback_is_declined_with_its_feedback(
    services: Services,
) -> None:
    services.scorer = ANGRY
    dispatcher = CollectingDispatcher()
    await ActionRecordFeedback().run(
        dispatcher, make_tracker("ma facture est fausse", intent="complain"), {}
    )
    [stored] = query(conversation_id="p_0123456789abcdef")
    tracker = make_tracker(
        "non merci", intent="deny", slots={"feedback_id": stored.id, "touchpoint": "billing"}
    )
    dispatcher = CollectingDispatcher()
    assert await ActionRecordDecline().run(dispatcher, tracker, {}) == []
    assert responses(dispatcher) == ["utter_decline_noted"]
    assert declined(services) == [("rating", "billing", stored.id)]


async def test_recorders_leave_declined_answers_out(services: Services) -> None:
    services.scorer = ANGRY
    # a rating without words is stored; nothing at all is not
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("skip", intent="decline", slots={"rating": 2, "comment": SKIPPED})
    events = await ActionRecordFeedback().run(dispatcher, tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.rating, stored.text) == (2, "")
    assert slot_events(events)["feedback_negative"] is True  # a low rating: the follow-up
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("skip", intent="decline", slots={"rating": SKIPPED, "comment": SKIPPED})
    events = await ActionRecordFeedback().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_decline_noted"]
    assert slot_events(events)["feedback_negative"] is False
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("aucune idée", intent="decline", slots={"followup": SKIPPED})
    await ActionRecordFollowup().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_decline_noted"]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "pass", intent="decline", slots={"enps": 8, "engagement": SKIPPED, "pulse_text": SKIPPED}
    )
    await ActionRecordPulse().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_thanks_pulse"]
    ratings = [(f.rating, f.scale) for f in query(conversation_id="p_0123456789abcdef")]
    assert (8, "enps") in ratings and len(ratings) == 2  # the comment's row and the eNPS


async def test_a_decline_that_cannot_be_stored_still_skips(services: Services) -> None:
    services.engine.dispose()
    with services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE declined_question")
    tracker = asked("rating", "non merci", "deny")
    assert await skip_if_declined(tracker, "rating") == {"rating": SKIPPED}
