"""Tests of actions/start_survey.py: a triggered survey starts clean, in the person's language."""

from __future__ import annotations

from action_helpers import make_tracker, slot_events
from rasa_sdk.executor import CollectingDispatcher

from actions.start_survey import ActionStartSurvey
from bot.services import Services


async def test_survey_intro_names_the_touchpoint_and_resets_the_form(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "", intent="EXTERNAL_survey", entities=[("touchpoint", "delivery")],
        slots={"language": "fr", "rating": 2, "comment": "old", "feedback_id": 3},
    )  # fmt: skip

    events = await ActionStartSurvey().run(dispatcher, tracker, {})

    [message] = dispatcher.messages
    assert message["response"] == "utter_survey_intro"
    assert message["touchpoint_label"] == "Livraison"
    assert slot_events(events) == {
        "touchpoint": "delivery", "rating": None, "comment": None, "followup": None,
        "feedback_id": None, "feedback_negative": None,
    }  # fmt: skip


async def test_english_label_and_no_intro_for_an_unknown_touchpoint(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", intent="EXTERNAL_survey", entities=[("touchpoint", "billing")],
                           slots={"language": "en"})  # fmt: skip
    await ActionStartSurvey().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["touchpoint_label"] == "Billing"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("", intent="EXTERNAL_survey", entities=[("touchpoint", "nowhere")])
    await ActionStartSurvey().run(dispatcher, tracker, {})
    assert dispatcher.messages == []
