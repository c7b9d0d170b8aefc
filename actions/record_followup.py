"""Action ``action_record_followup``: store the answer to "what would have made it right?".

The answer is recorded with :func:`bot.feedback.intake.record` as a ``followup`` whose parent is
the feedback it answers (``feedback_id`` slot), so the owning team reads both together.
A declined follow-up (``actions.decline_question``) adds nothing.
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
    FOLLOWUP,
    SKIPPED,
    TOUCHPOINT,
    as_id,
    context,
    latest_entity,
    latest_intent,
    latest_text,
    message_id_of,
    original_length_of,
)
from bot.domain import Kind
from bot.errors import VecuError
from bot.feedback.intake import Message, record

_log = logging.getLogger(__name__)


class ActionRecordFollowup(Action):
    """Record the follow-up answer, linked to the feedback it answers."""

    def name(self) -> str:
        return "action_record_followup"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        answer = tracker.get_slot(FOLLOWUP)
        if answer == SKIPPED:  # declined (already recorded): nothing to add for the team
            dispatcher.utter_message(response="utter_decline_noted")
            return [SlotSet(FOLLOWUP, None)]
        text = answer if isinstance(answer, str) else latest_text(tracker)
        message = Message(
            conversation_id=ctx.conversation_id,
            text=text,
            message_id=message_id_of(tracker, text),
            original_length=original_length_of(tracker, text),
            language=ctx.language,
            audience=ctx.audience,
            channel=ctx.channel,
            touchpoint=latest_entity(tracker, TOUCHPOINT),
            intent=latest_intent(tracker),
            kind=Kind.FOLLOWUP,
            parent_id=as_id(tracker.get_slot(FEEDBACK_ID)),
            context_touchpoint=tracker.get_slot(TOUCHPOINT),
        )
        try:
            await asyncio.to_thread(record, message)
        except VecuError:
            _log.exception("follow-up of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return [SlotSet(FOLLOWUP, None)]
        dispatcher.utter_message(response="utter_thanks_followup")
        return [SlotSet(FOLLOWUP, None)]
