"""Action ``action_attach_rating``: a rating given after unprompted feedback.

The feedback was stored the moment it arrived (``action_record_feedback``); the rating the
person then picks is attached to it with :func:`bot.feedback.intake.set_rating`, which may raise
its severity. A rating with nothing to attach to (no feedback in this conversation, or it
is gone) is recorded on its own with :func:`bot.feedback.intake.record`, so it is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    FEEDBACK_ID,
    FEEDBACK_NEGATIVE,
    RATING,
    TOUCHPOINT,
    as_id,
    as_rating,
    context,
    latest_entity,
)
from actions.record_feedback import wants_followup
from bot.domain import Kind
from bot.errors import VecuError
from bot.feedback.intake import Message, Outcome, record, set_rating, valid_rating
from bot.services import get_services

_log = logging.getLogger(__name__)


class ActionAttachRating(Action):
    """Attach the rating just given to the conversation's latest feedback."""

    def name(self) -> str:
        return "action_attach_rating"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        rating = as_rating(latest_entity(tracker, RATING))
        if rating is None:
            rating = as_rating(tracker.get_slot(RATING))
        if rating is None or not valid_rating(rating, ctx.scale):
            dispatcher.utter_message(response="utter_rating_invalid")
            return [SlotSet(RATING, None)]
        feedback_id = as_id(tracker.get_slot(FEEDBACK_ID))
        try:
            outcome = await asyncio.to_thread(self._attach, ctx, feedback_id, rating, tracker)
        except VecuError:
            _log.exception("rating of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return [SlotSet(RATING, None), SlotSet(FEEDBACK_NEGATIVE, False)]
        low = get_services().company.is_low_rating(rating, ctx.scale)
        # a 1 or a 2 out of 5 is not thanked as if it were good news
        dispatcher.utter_message(
            response="utter_rating_recorded_low" if low else "utter_rating_recorded"
        )
        return [
            SlotSet(FEEDBACK_ID, outcome.feedback_id),
            SlotSet(FEEDBACK_NEGATIVE, wants_followup(outcome)),
            SlotSet(RATING, None),
        ]

    @staticmethod
    def _attach(ctx: Any, feedback_id: int | None, rating: int, tracker: Tracker) -> Outcome:
        if feedback_id is not None:
            try:
                return set_rating(feedback_id, rating, ctx.scale)
            except LookupError:
                _log.warning("feedback %s is gone; recording the rating alone", feedback_id)
        return record(
            Message(
                conversation_id=ctx.conversation_id,
                text="",
                language=ctx.language,
                audience=ctx.audience,
                channel=ctx.channel,
                rating=rating,
                scale=ctx.scale,
                kind=Kind.COMMENT,
                context_touchpoint=tracker.get_slot(TOUCHPOINT),
            )
        )
