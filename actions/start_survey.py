"""Action ``action_start_survey``: a business event opened an in-the-moment survey.

Vécu's sender triggers the intent ``EXTERNAL_survey`` (entity ``touchpoint``) in the
person's conversation after a ``done`` event the contact ledger let through. This action
clears what a previous survey left in the form's slots, keeps the touchpoint, and introduces
the survey with the touchpoint's name in the person's language; ``feedback_form`` then asks
the rating with buttons.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    COMMENT,
    FEEDBACK_ID,
    FEEDBACK_NEGATIVE,
    FOLLOWUP,
    RATING,
    TOUCHPOINT,
    context,
    latest_entity,
)
from bot.services import get_services


def touchpoint_label(touchpoint: str | None, language: str) -> str | None:
    """The name of ``touchpoint`` in ``language`` (from the company configuration)."""
    if not touchpoint:
        return None

    found = get_services().company.touchpoint(touchpoint)
    return found.label(language) if found else None


class ActionStartSurvey(Action):
    """Reset the survey's slots and introduce it (the form asks the rating next)."""

    def name(self) -> str:
        return "action_start_survey"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        touchpoint = latest_entity(tracker, TOUCHPOINT) or tracker.get_slot(TOUCHPOINT)
        label = touchpoint_label(touchpoint, ctx.language)
        if label:
            dispatcher.utter_message(response="utter_survey_intro", touchpoint_label=label)
        return [
            SlotSet(TOUCHPOINT, touchpoint),
            SlotSet(RATING, None),
            SlotSet(COMMENT, None),
            SlotSet(FOLLOWUP, None),
            SlotSet(FEEDBACK_ID, None),
            SlotSet(FEEDBACK_NEGATIVE, None),
        ]
