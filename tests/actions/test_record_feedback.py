"""Tests of actions/record_feedback.py: feedback stored at once, answered honestly."""

from __future__ import annotations

from pathlib import Path

import pytest
from action_helpers import ANGRY, HAPPY, make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.record_feedback import ActionRecordFeedback, reply_for, wants_followup
from bot.alerts.inbox import open_alerts
from bot.domain import Severity
from bot.feedback.intake import Outcome
from bot.feedback.query import query
from bot.services import Services
from bot.storage.engine import make_engine


async def _run(tracker_text: str, **kwargs: object) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(tracker_text, **kwargs)  # type: ignore[arg-type]
    events = await ActionRecordFeedback().run(dispatcher, tracker, {})
    return dispatcher, events


async def test_unprompted_complaint_is_stored_routed_and_answered_with_the_team(
    services: Services,
) -> None:
    services.scorer = ANGRY
    dispatcher, events = await _run(
        "Mon colis est arrivé écrasé, c'est inacceptable !",
        intent="complain",
        entities=[("touchpoint", "delivery")],
        slots={"language": "fr", "channel": "web"},
    )

    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.touchpoint, stored.team, stored.kind) == ("delivery", "logistics", "comment")
    assert stored.sentiment_label == "negative"
    assert stored.rating is None
    assert stored.language == "fr" and stored.channel == "web"
    assert dispatcher.messages[0]["response"] == "utter_feedback_negative"
    assert dispatcher.messages[0]["team_label"] == "Logistique"
    slots = slot_events(events)
    assert slots["feedback_id"] == stored.id
    assert slots["feedback_negative"] is True
    assert slots["touchpoint"] == "delivery"


async def test_team_label_follows_the_language(services: Services) -> None:
    services.scorer = ANGRY
    dispatcher, _ = await _run(
        "my parcel arrived crushed",
        intent="complain",
        entities=[("touchpoint", "delivery")],
        slots={"language": "en"},
    )
    assert dispatcher.messages[0]["team_label"] == "Logistics"


async def test_prompted_comment_uses_the_form_slots_and_resets_them(services: Services) -> None:
    services.scorer = HAPPY
    dispatcher, events = await _run(
        "la caissière était adorable",
        intent="praise",
        slots={
            "language": "fr",
            "comment": "la caissière était adorable",
            "rating": 5,
            "touchpoint": "store",
        },
    )

    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.rating, stored.scale) == (5, "csat")
    assert stored.touchpoint == "store"
    assert stored.text == "la caissière était adorable"
    assert responses(dispatcher) == ["utter_feedback_positive"]
    slots = slot_events(events)
    assert slots["feedback_negative"] is False
    assert slots["comment"] is None and slots["rating"] is None


async def test_nps_scale_from_the_conversation_is_recorded(services: Services) -> None:
    await _run("ok", slots={"language": "en", "comment": "fine", "rating": "9", "scale": "nps"})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert (stored.rating, stored.scale) == (9, "nps")


async def test_neutral_words_are_thanked_without_claiming_a_team_was_told(
    services: Services,
) -> None:
    dispatcher, events = await _run("je voulais juste dire que j'ai commandé hier", slots={})
    assert responses(dispatcher) == ["utter_feedback_recorded"]
    assert slot_events(events)["feedback_negative"] is False


async def test_harassment_is_confidential_and_gets_no_probing_follow_up(
    services: Services,
) -> None:
    services.scorer = ANGRY
    dispatcher, events = await _run(
        "je subis du harcèlement au travail",
        intent="complain",
        entities=[("touchpoint", "safety")],
        slots={"language": "fr", "audience": "employee"},
    )
    assert responses(dispatcher) == ["utter_feedback_confidential"]
    assert dispatcher.messages[0]["team_label"] == "Ressources humaines"
    assert slot_events(events)["feedback_negative"] is False
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.audience == "employee" and stored.team == "hr"


@pytest.mark.parametrize(
    "text",
    [
        "x" * 12_000,
        "😡😡😡",
        "'; DROP TABLE feedback; --",
        "<script>alert(1)</script>",
        "bad\x00control\x07chars",
    ],
)
async def test_hostile_or_odd_input_is_stored_safely(services: Services, text: str) -> None:
    dispatcher, events = await _run(text, intent="complain", slots={"language": "fr"})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert slot_events(events)["feedback_id"] == stored.id
    assert "\x00" not in stored.text
    assert stored.original_length == len(text)
    assert stored.truncated is (len(text) > services.settings.max_text_length)
    assert responses(dispatcher) != ["utter_something_went_wrong"]


async def test_a_database_failure_is_told_to_the_person(services: Services, tmp_path: Path) -> None:
    services.engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated
    from bot.storage.engine import make_sessions

    services.sessions = make_sessions(services.engine)
    dispatcher, events = await _run("le site plante", slots={"language": "fr"})
    assert responses(dispatcher) == ["utter_something_went_wrong"]
    assert slot_events(events) == {"feedback_id": None, "feedback_negative": False}


async def test_two_touchpoints_tell_both_teams_and_the_person(services: Services) -> None:
    services.scorer = ANGRY
    dispatcher, _ = await _run(
        "Hi, I was charged twice on my last invoice and nobody answers the phone",
        intent="complain",
        entities=[("touchpoint", "billing"), ("touchpoint", "support")],
        slots={"language": "en"},
    )
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.touchpoints == ["billing", "support"]
    [said] = dispatcher.messages
    assert said["response"] == "utter_feedback_negative_also"
    assert (said["team_label"], said["also_label"]) == ("Billing", "Customer care")


def outcome(**kw: object) -> Outcome:
    """A recorded feedback's outcome: positive, about the website (``kw`` overrides)."""
    base: dict[str, object] = dict(
        feedback_id=1, touchpoint="website", team="digital", severity=Severity.NORMAL,
        sentiment="positive", emotion="joy", negative=False,
    )  # fmt: skip
    return Outcome(**{**base, **kw})  # type: ignore[arg-type]


def test_replies_never_praise_a_negative_or_mixed_message() -> None:
    assert reply_for(outcome(), "en")[0] == "utter_feedback_positive"
    assert reply_for(outcome(mixed=True, negative=True), "en") == (
        "utter_feedback_mixed",
        {"team_label": "Digital"},
    )
    assert reply_for(outcome(mixed=True, negative=True, team=None), "fr")[0] == (
        "utter_feedback_mixed_noteam"
    )
    mixed_also = reply_for(outcome(mixed=True, negative=True, also_told=("stores",)), "fr")
    assert mixed_also == (
        "utter_feedback_mixed_also",
        {"team_label": "Numérique", "also_label": "Magasins"},
    )
    assert reply_for(outcome(negative=True), "en")[0] == "utter_feedback_negative"
    assert reply_for(outcome(other_language=True, negative=True), "en")[0] == "utter_other_language"
    assert not wants_followup(outcome(other_language=True, negative=True))
    assert wants_followup(outcome(mixed=True, negative=True))


def test_questions_and_suggestions_get_their_own_reply() -> None:
    def question(**kw: object) -> Outcome:
        return outcome(**{"touchpoint": "billing", "team": "billing", "sentiment": "neutral", **kw})

    assert reply_for(question(), "fr", "ask") == (
        "utter_feedback_question", {"team_label": "Facturation"}
    )  # fmt: skip
    assert reply_for(question(negative=True), "en", "ask")[0] == "utter_feedback_question"
    assert reply_for(question(team=None), "en", "ask") == ("utter_feedback_question_noteam", {})
    assert reply_for(question(), "en", "suggest") == (
        "utter_feedback_suggestion", {"team_label": "Billing"}
    )  # fmt: skip
    assert reply_for(question(team=None), "en", "suggest")[0] == "utter_feedback_suggestion_noteam"
    # a "suggestion" that is a complaint is answered as one
    assert reply_for(question(negative=True), "en", "suggest")[0] == "utter_feedback_negative"


async def test_a_question_reaches_the_team_as_an_issue_and_is_answered_as_one(
    services: Services,
) -> None:
    dispatcher, _events = await _run(
        "when will my refund for the double charge arrive?",
        intent="ask",
        entities=[("touchpoint", "billing")],
        slots={"language": "en", "channel": "web"},
    )
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.team == "billing" and stored.severity == "normal"
    inbox = open_alerts(teams=["billing"], services=services)  # the team will answer it
    assert [item.feedback_id for item in inbox.items] == [stored.id]
    assert dispatcher.messages[0]["response"] == "utter_feedback_question"


async def test_another_language_is_stored_as_other_and_answered_in_both(
    services: Services,
) -> None:
    services.scorer = ANGRY
    dispatcher, events = await _run(
        "Ich bin sehr unzufrieden mit der Lieferung", intent="complain", slots={"language": "fr"}
    )
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.language == "other" and stored.team == "customer_care"
    assert dispatcher.messages[0]["response"] == "utter_other_language"
    assert slot_events(events)["feedback_negative"] is False  # no follow-up in French


async def test_a_message_the_web_app_already_recorded_is_not_stored_again(
    services: Services,
) -> None:
    """Rasa was late: the web app recorded the message itself, then the action runs."""
    from bot.feedback.intake import Message, record

    services.scorer = ANGRY
    text = "Mon colis est arrivé écrasé, c'est inacceptable !"
    first = record(Message(conversation_id="p_0123456789abcdef", text=text, language="fr",
                           channel="web", message_id="web-msg-0001"))  # fmt: skip
    dispatcher, events = await _run(
        text, intent="complain", slots={"language": "fr"}, message_id="web-msg-0001"
    )
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.id == first.feedback_id == slot_events(events)["feedback_id"]
    assert responses(dispatcher) == ["utter_feedback_negative"]
    await _run(text, intent="complain", slots={"language": "fr"}, message_id="web-msg-0002")
    assert len(query(conversation_id="p_0123456789abcdef")) == 2  # another message, same words


async def test_a_message_the_channel_cut_is_stored_as_truncated_with_its_real_length(
    services: Services,
) -> None:
    services.scorer = ANGRY
    limit = services.settings.max_text_length
    text = ("Mon colis est arrivé écrasé. " * 5000)[:limit]
    tracker = make_tracker(
        text, intent="complain", metadata={"truncated": True, "original_length": 124_000}
    )
    await ActionRecordFeedback().run(CollectingDispatcher(), tracker, {})
    [stored] = query(conversation_id="p_0123456789abcdef")
    assert stored.truncated is True and stored.original_length == 124_000
    assert len(stored.text) <= limit
