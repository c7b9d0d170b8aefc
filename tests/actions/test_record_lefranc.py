"""Tests of actions/record_lefranc.py and actions/lefranc_forms.py (expected, proposed, mirror)."""

from __future__ import annotations

from typing import Any

from action_helpers import make_tracker, responses, slot_events
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.lefranc_forms import ValidateExpectationForm, ValidateTouchpointPulseForm
from actions.record_lefranc import ActionRecordExpectation, ActionRecordTouchpointPulse
from bot.feedback.query import query
from bot.services import Services
from bot.storage.models import FeedbackRecord

SENDER = "p_lefranc_hash"


async def test_an_expectation_is_recorded_for_its_touchpoint(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "/rate",
        intent="rate",
        slots={
            "expectation": "4",
            "touchpoint": "delivery",
            "language": "fr",
            "channel": "telegram",
        },
        sender=SENDER,
    )
    events = await ActionRecordExpectation().run(dispatcher, tracker, {})
    (row,) = query(conversation_id=SENDER)
    assert (row.kind, row.scale, row.rating, row.touchpoint, row.audience) == (
        "expectation",
        "expectation",
        4,
        "delivery",
        "customer",
    )
    assert row.channel == "telegram" and row.language == "fr"
    assert responses(dispatcher) == ["utter_thanks_expectation"]
    assert slot_events(events) == {"expectation": None}


async def test_an_expectation_without_touchpoint_is_an_apology_not_a_crash(
    services: Services,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"expectation": 4}, sender=SENDER)
    await ActionRecordExpectation().run(dispatcher, tracker, {})
    assert query(conversation_id=SENDER) == []
    assert responses(dispatcher) == ["utter_something_went_wrong"]


async def test_means_and_mirror_are_recorded_with_the_employee_team(services: Services) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "means": 2,
            "mirror": "5",
            "touchpoint": "delivery",
            "audience": "employee",
            "member_team": "logistics",
            "language": "en",
        },
        sender=SENDER,
    )
    events = await ActionRecordTouchpointPulse().run(dispatcher, tracker, {})
    rows = {v.scale: v for v in query(conversation_id=SENDER)}
    assert set(rows) == {"means", "mirror"}
    assert (rows["means"].kind, rows["means"].rating, rows["means"].touchpoint) == (
        "proposed",
        2,
        "delivery",
    )
    assert (rows["mirror"].kind, rows["mirror"].rating) == ("mirror", 5)
    assert {r.audience for r in rows.values()} == {"employee"}
    with services.sessions() as session:
        teams = set(session.scalars(select(FeedbackRecord.member_team)))
    assert teams == {"logistics"}
    assert responses(dispatcher) == ["utter_thanks_touchpoint_pulse"]
    assert slot_events(events) == {"means": None, "mirror": None}


async def test_an_unknown_team_is_not_stored(services: Services) -> None:
    tracker = make_tracker(
        slots={"means": 4, "touchpoint": "billing", "member_team": "pirates"}, sender=SENDER
    )
    await ActionRecordTouchpointPulse().run(CollectingDispatcher(), tracker, {})
    with services.sessions() as session:
        assert list(session.scalars(select(FeedbackRecord.member_team))) == [None]


async def _validate(form: Any, slot: str, value: Any, **slots: Any) -> tuple[Any, list[str]]:
    dispatcher = CollectingDispatcher()
    method = getattr(form, f"validate_{slot}")
    result = method(value, dispatcher, make_tracker(slots=slots), {})
    return result[slot], responses(dispatcher)


async def test_forms_accept_customer_touchpoints_and_one_to_five(services: Services) -> None:
    expectation, pulse = ValidateExpectationForm(), ValidateTouchpointPulseForm()
    assert await _validate(expectation, "touchpoint", "delivery") == ("delivery", [])
    assert await _validate(expectation, "touchpoint", "tools") == (None, [])  # employee touchpoint
    assert await _validate(pulse, "touchpoint", "nowhere") == (None, [])
    assert await _validate(expectation, "expectation", "5") == (5, [])
    assert await _validate(expectation, "expectation", 9) == (None, ["utter_rating_invalid"])
    assert await _validate(pulse, "means", 0) == (None, ["utter_rating_invalid"])
    assert await _validate(pulse, "mirror", 3) == (3, [])
