"""Actions ``action_record_expectation`` and ``action_record_touchpoint_pulse``.

They store the answers of Lefranc's questions through :mod:`bot.feedback.lefranc`: a customer's
expected level for a touchpoint (*expected*), an employee's means to deliver it (*proposed*)
and their estimate of customers' rating (*mirror*). The conversation id is Rasa's sender id,
already a pseudonym; an employee's team comes from the channel's metadata (``member_team``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    EXPECTATION,
    MEANS,
    MEMBER_TEAM,
    MIRROR,
    SKIPPED,
    TOUCHPOINT,
    answer,
    as_rating,
    context,
)
from bot.errors import VecuError
from bot.feedback.lefranc import record_expectation, record_touchpoint_pulse

_log = logging.getLogger(__name__)


class ActionRecordExpectation(Action):
    """Record what level a customer expects of a touchpoint."""

    def name(self) -> str:
        return "action_record_expectation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        rating = as_rating(tracker.get_slot(EXPECTATION))
        touchpoint = answer(tracker, TOUCHPOINT)
        reset: list[EventType] = [SlotSet(EXPECTATION, None)]
        if tracker.get_slot(EXPECTATION) == SKIPPED:  # declined (already recorded)
            dispatcher.utter_message(response="utter_decline_noted")
            return [*reset, SlotSet(TOUCHPOINT, touchpoint)]
        try:
            if rating is None or not isinstance(touchpoint, str):
                raise ValueError("no expectation or touchpoint to record")
            await asyncio.to_thread(
                record_expectation,
                conversation_id=ctx.conversation_id,
                touchpoint=touchpoint,
                rating=rating,
                language=ctx.language,
                channel=ctx.channel,
            )
        except (VecuError, ValueError):
            _log.exception("expectation of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return reset
        dispatcher.utter_message(response="utter_thanks_expectation")
        return reset


class ActionRecordTouchpointPulse(Action):
    """Record an employee's means and mirror answers about a customer touchpoint."""

    def name(self) -> str:
        return "action_record_touchpoint_pulse"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        touchpoint = answer(tracker, TOUCHPOINT)
        team = tracker.get_slot(MEMBER_TEAM)
        reset: list[EventType] = [SlotSet(MEANS, None), SlotSet(MIRROR, None)]
        means, mirror = (as_rating(tracker.get_slot(s)) for s in (MEANS, MIRROR))
        if means is None and mirror is None:  # both declined (already recorded)
            dispatcher.utter_message(response="utter_decline_noted")
            return [*reset, SlotSet(TOUCHPOINT, touchpoint)]
        try:
            if not isinstance(touchpoint, str):
                raise ValueError("no touchpoint to record")
            await asyncio.to_thread(
                record_touchpoint_pulse,
                conversation_id=ctx.conversation_id,
                touchpoint=touchpoint,
                means=means,
                mirror=mirror,
                language=ctx.language,
                channel=ctx.channel,
                member_team=team if isinstance(team, str) else None,
            )
        except (VecuError, ValueError):
            _log.exception("touchpoint pulse of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return reset
        dispatcher.utter_message(response="utter_thanks_touchpoint_pulse")
        return reset
