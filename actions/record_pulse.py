"""Action ``action_record_pulse``: store an employee's pulse answers, pseudonymously.

The pulse form collects the eNPS (0-10), one engagement rating (1-5) and free text. The
text is recorded with the eNPS as one ``pulse`` feedback; the engagement rating is recorded
as a second ``pulse`` row linked to it (``parent_id``), so both scales stay queryable. The
conversation id is Rasa's sender id, already a keyed pseudonym: no name is asked or stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    ENGAGEMENT,
    ENPS,
    PULSE_TEXT,
    SKIPPED,
    TOUCHPOINT,
    Context,
    as_rating,
    context,
    latest_entity,
    latest_text,
    message_id_of,
    original_length_of,
)
from bot.domain import Audience, Kind, RatingScale
from bot.errors import VecuError
from bot.feedback.intake import Message, record, valid_rating

_log = logging.getLogger(__name__)


def pulse_messages(
    ctx: Context, text: str, enps: int | None, engagement: int | None, touchpoint: str | None
) -> tuple[Message, Message | None]:
    """The pulse feedback (text + eNPS) and, when given, the engagement rating to link to it."""
    enps = enps if enps is not None and valid_rating(enps, RatingScale.ENPS) else None
    engagement_ok = engagement is not None and valid_rating(engagement, RatingScale.ENGAGEMENT)
    main = Message(
        conversation_id=ctx.conversation_id,
        text=text,
        language=ctx.language,
        audience=Audience.EMPLOYEE,
        channel=ctx.channel,
        rating=enps,
        scale=RatingScale.ENPS if enps is not None else None,
        touchpoint=touchpoint,
        kind=Kind.PULSE,
    )
    if not engagement_ok:
        return main, None
    return main, Message(
        conversation_id=ctx.conversation_id,
        text="",
        language=ctx.language,
        audience=Audience.EMPLOYEE,
        channel=ctx.channel,
        rating=engagement,
        scale=RatingScale.ENGAGEMENT,
        kind=Kind.PULSE,
    )


def _record_pulse(main: Message, engagement: Message | None) -> None:
    outcome = record(main)
    if engagement is not None:
        record(replace(engagement, parent_id=outcome.feedback_id))


class ActionRecordPulse(Action):
    """Record the employee pulse (eNPS, engagement, free text)."""

    def name(self) -> str:
        return "action_record_pulse"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        text = tracker.get_slot(PULSE_TEXT)
        enps, engagement_rating = (as_rating(tracker.get_slot(s)) for s in (ENPS, ENGAGEMENT))
        reset = [SlotSet(ENPS, None), SlotSet(ENGAGEMENT, None), SlotSet(PULSE_TEXT, None)]
        if text == SKIPPED:  # declined (already recorded)
            if enps is None and engagement_rating is None:
                dispatcher.utter_message(response="utter_decline_noted")
                return reset
            text = ""
        text = text if isinstance(text, str) else latest_text(tracker)
        main, engagement = pulse_messages(
            ctx, text, enps, engagement_rating, latest_entity(tracker, TOUCHPOINT)
        )
        main = replace(
            main,
            message_id=message_id_of(tracker, text),
            original_length=original_length_of(tracker, text),
        )
        try:
            await asyncio.to_thread(_record_pulse, main, engagement)
        except VecuError:
            _log.exception("pulse of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return reset
        dispatcher.utter_message(response="utter_thanks_pulse")
        return [*reset, SlotSet(TOUCHPOINT, None)]
