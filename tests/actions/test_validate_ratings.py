"""Tests of actions/validate_ratings.py: ratings must fit their scale."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import make_tracker, responses
from rasa_sdk.executor import CollectingDispatcher

from actions.validate_ratings import ValidateFeedbackForm, ValidatePulseForm


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [(4, "csat", 4), ("5", "csat", 5), (6, "csat", None), (0, "csat", None),
     (0, "nps", 0), (10, "nps", 10), ("abc", "csat", None), (True, "csat", None)],
)  # fmt: skip
def test_customer_rating(value: Any, scale: str, expected: int | None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"scale": scale})
    result = ValidateFeedbackForm().validate_rating(value, dispatcher, tracker, {})
    assert result == {"rating": expected}
    assert responses(dispatcher) == ([] if expected is not None else ["utter_rating_invalid"])


def test_pulse_ratings() -> None:
    form, tracker = ValidatePulseForm(), make_tracker()
    assert form.validate_enps(0, CollectingDispatcher(), tracker, {}) == {"enps": 0}
    assert form.validate_enps(11, CollectingDispatcher(), tracker, {}) == {"enps": None}
    assert form.validate_engagement(5, CollectingDispatcher(), tracker, {}) == {"engagement": 5}
    assert form.validate_engagement(0, CollectingDispatcher(), tracker, {}) == {"engagement": None}
