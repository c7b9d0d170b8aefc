"""Form validation of Lefranc's questions: the touchpoint asked about, and 1-5 answers.

``validate_expectation_form`` (a customer's expected level) and
``validate_touchpoint_pulse_form`` (an employee's means and mirror answers) accept only a
customer touchpoint (:func:`bot.feedback.lefranc.question_touchpoint`) and ratings from 1 to 5;
anything
else is refused with ``utter_rating_invalid`` (ratings) or asked again (touchpoint).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import EXPECTATION, MEANS, MIRROR, SKIPPED, TOUCHPOINT, context
from actions.decline_question import skip_if_declined
from actions.validate_ratings import checked
from bot.domain import RatingScale
from bot.feedback.lefranc import question_touchpoint


def _touchpoint(value: Any, tracker: Tracker) -> dict[str, Any]:
    if value == SKIPPED:
        return {TOUCHPOINT: SKIPPED}
    found = question_touchpoint(
        value if isinstance(value, str) else None, context(tracker).language
    )
    return {TOUCHPOINT: found.key if found else None}


class ValidateExpectationForm(FormValidationAction):
    """Validate the customer's expectation form."""

    def name(self) -> str:
        return "validate_expectation_form"

    async def extract_touchpoint(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A declined touchpoint leaves nothing to ask: the expectation is skipped too."""
        return await skip_if_declined(tracker, TOUCHPOINT, also=(EXPECTATION,))

    async def extract_expectation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the expectation when declined."""
        return await skip_if_declined(tracker, EXPECTATION)

    def validate_touchpoint(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a customer touchpoint."""
        return _touchpoint(slot_value, tracker)

    def validate_expectation(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept an expected level from 1 to 5."""
        return checked(EXPECTATION, slot_value, RatingScale.EXPECTATION, dispatcher)


class ValidateTouchpointPulseForm(FormValidationAction):
    """Validate the employee's touchpoint pulse form (means, mirror)."""

    def name(self) -> str:
        return "validate_touchpoint_pulse_form"

    async def extract_touchpoint(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A declined touchpoint leaves nothing to ask: means and mirror are skipped too."""
        return await skip_if_declined(tracker, TOUCHPOINT, also=(MEANS, MIRROR))

    async def extract_means(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the means question when declined."""
        return await skip_if_declined(tracker, MEANS)

    async def extract_mirror(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the mirror question when declined."""
        return await skip_if_declined(tracker, MIRROR)

    def validate_touchpoint(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a customer touchpoint (employees answer about what customers live)."""
        return _touchpoint(slot_value, tracker)

    def validate_means(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a means answer from 1 to 5."""
        return checked(MEANS, slot_value, RatingScale.MEANS, dispatcher)

    def validate_mirror(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept an estimate of customers' rating from 1 to 5."""
        return checked(MIRROR, slot_value, RatingScale.MIRROR, dispatcher)
