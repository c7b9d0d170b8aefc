"""Form validation: a rating typed or clicked must fit its scale.

``validate_feedback_form`` checks the customer rating (CSAT 1-5, or NPS 0-10 when the
channel asked for NPS); ``validate_pulse_form`` checks the eNPS (0-10) and the engagement
rating (1-5). A rating off its scale is refused with ``utter_rating_invalid`` and the form
asks again. The scale ranges belong to :func:`bot.feedback.intake.valid_rating`. Every question may
be declined ("non merci", "je sais pas": :func:`actions.decline_question.skip_if_declined`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import (
    COMMENT,
    ENGAGEMENT,
    ENPS,
    PULSE_TEXT,
    RATING,
    SKIPPED,
    TOUCHPOINT,
    as_rating,
    context,
)
from actions.decline_question import skip_if_declined
from bot.domain import RatingScale
from bot.feedback.intake import valid_rating


def checked(
    slot: str, value: Any, scale: RatingScale, dispatcher: CollectingDispatcher
) -> dict[str, Any]:
    """``{slot: rating}`` when ``value`` is a rating on ``scale`` (or declined), else refuse it."""
    if value == SKIPPED:
        return {slot: SKIPPED}
    rating = as_rating(value)
    if rating is not None and valid_rating(rating, scale):
        return {slot: rating}
    dispatcher.utter_message(response="utter_rating_invalid")
    return {slot: None}


class ValidateFeedbackForm(FormValidationAction):
    """Validate the customer feedback form's rating."""

    def name(self) -> str:
        return "validate_feedback_form"

    async def extract_touchpoint(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the touchpoint question when declined."""
        return await skip_if_declined(tracker, TOUCHPOINT)

    async def extract_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the rating when declined."""
        return await skip_if_declined(tracker, RATING)

    async def extract_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the comment when declined (a long answer is kept as the comment)."""
        return await skip_if_declined(tracker, COMMENT, free_text=True)

    def validate_rating(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a rating on the conversation's scale (CSAT or NPS)."""
        return checked(RATING, slot_value, context(tracker).scale, dispatcher)


class ValidatePulseForm(FormValidationAction):
    """Validate the employee pulse form's ratings."""

    def name(self) -> str:
        return "validate_pulse_form"

    async def extract_enps(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the eNPS when declined."""
        return await skip_if_declined(tracker, ENPS)

    async def extract_engagement(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the engagement rating when declined."""
        return await skip_if_declined(tracker, ENGAGEMENT)

    async def extract_pulse_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the free-text question when declined (a long answer is kept)."""
        return await skip_if_declined(tracker, PULSE_TEXT, free_text=True)

    def validate_enps(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept an eNPS from 0 to 10."""
        return checked(ENPS, slot_value, RatingScale.ENPS, dispatcher)

    def validate_engagement(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept an engagement rating from 1 to 5."""
        return checked(ENGAGEMENT, slot_value, RatingScale.ENGAGEMENT, dispatcher)
