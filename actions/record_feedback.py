"""Action ``action_record_feedback``: store a customer's (or employee's) own words at once.

Runs after the feedback form (the comment slot holds the words, the rating slot the rating)
and straight after unprompted feedback ("mon colis est arrivé écrasé !!": the latest message
holds the words, no rating yet). It calls :func:`bot.feedback.intake.record` once, then answers
with a response chosen from the outcome: an empathetic note naming the team that is told,
a confidential note, or thanks. ``feedback_negative`` tells the rules whether the one
empathetic follow-up question comes next.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    COMMENT,
    FEEDBACK_ID,
    FEEDBACK_NEGATIVE,
    RATING,
    SKIPPED,
    TOUCHPOINT,
    answer,
    as_rating,
    context,
    latest_entities,
    latest_entity,
    latest_intent,
    latest_text,
    message_id_of,
    original_length_of,
    team_label,
)
from bot.domain import Kind
from bot.errors import VecuError
from bot.feedback.intake import Message, Outcome, record

_log = logging.getLogger(__name__)


# (another team told too, the owning team told, nobody told)
_NEGATIVE = (
    "utter_feedback_negative_also",
    "utter_feedback_negative",
    "utter_feedback_negative_noteam",
)
_MIXED = ("utter_feedback_mixed_also", "utter_feedback_mixed", "utter_feedback_mixed_noteam")


def reply_for(
    outcome: Outcome, language: str, intent: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The response (and its template values) that tells the person what happened.

    Only claims that a team is told when :func:`bot.feedback.intake.record` says one was. A mixed
    message (praise and a problem) gets both halves acknowledged; a negative or mixed one is
    never answered with "great to hear"; another team the message names is said to be told.
    A question (intent ``ask``) is said to be passed on to the team that will answer it; a
    suggestion (``suggest``) that is not a complaint is thanked as an idea.
    """
    label = team_label(outcome.team, language)
    if outcome.other_language:  # said in both languages: we cannot tell which one they read
        return ("utter_other_language" if label else "utter_other_language_noteam"), {}
    if outcome.confidential and label:
        return "utter_feedback_confidential", {"team_label": label}
    if intent == "ask":
        return (
            ("utter_feedback_question", {"team_label": label})
            if label
            else ("utter_feedback_question_noteam", {})
        )
    if intent == "suggest" and not (outcome.negative or outcome.mixed):
        return (
            ("utter_feedback_suggestion", {"team_label": label})
            if label
            else ("utter_feedback_suggestion_noteam", {})
        )
    also = team_label(outcome.also_told[0], language) if outcome.also_told else None
    if outcome.negative or outcome.mixed:
        also_told, told, nobody = _MIXED if outcome.mixed else _NEGATIVE
        if label and also:
            return also_told, {"team_label": label, "also_label": also}
        if label:
            return told, {"team_label": label}
        return nobody, {}
    if outcome.sentiment == "positive" and label:
        return "utter_feedback_positive", {"team_label": label}
    return "utter_feedback_recorded", {}


def wants_followup(outcome: Outcome) -> bool:
    """Negative feedback gets one follow-up question, except confidential reports and
    messages in a language Vécu does not speak."""
    return outcome.negative and not outcome.confidential and not outcome.other_language


async def record_and_reply(
    dispatcher: CollectingDispatcher, message: Message, language: str
) -> Outcome | None:
    """Record ``message`` and tell the person what happened (:func:`reply_for`).

    Returns ``None``, after an apology, when the feedback could not be stored.
    """
    try:
        outcome = await asyncio.to_thread(record, message)
    except VecuError:
        _log.exception("feedback of %s could not be recorded", message.conversation_id)
        dispatcher.utter_message(response="utter_something_went_wrong")
        return None
    response, values = reply_for(outcome, language, message.intent)
    dispatcher.utter_message(response=response, **values)
    return outcome


class ActionRecordFeedback(Action):
    """Record the person's words about a touchpoint and answer accordingly."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        comment = tracker.get_slot(COMMENT)
        rating = as_rating(tracker.get_slot(RATING))
        reset: list[EventType] = [SlotSet(COMMENT, None), SlotSet(RATING, None)]
        if comment == SKIPPED:
            if rating is None:  # both declined (already recorded): nothing else to store
                dispatcher.utter_message(response="utter_decline_noted")
                return [*reset, SlotSet(FEEDBACK_NEGATIVE, False), SlotSet(TOUCHPOINT, None)]
            comment = ""  # a rating without words
        text = comment if isinstance(comment, str) else latest_text(tracker)
        message = Message(
            conversation_id=ctx.conversation_id,
            text=text,
            message_id=message_id_of(tracker, text),
            original_length=original_length_of(tracker, text),
            language=ctx.language,
            audience=ctx.audience,
            channel=ctx.channel,
            rating=rating,
            scale=ctx.scale if rating is not None else None,
            touchpoint=latest_entity(tracker, TOUCHPOINT),
            mentions=latest_entities(tracker, TOUCHPOINT),
            intent=latest_intent(tracker),
            kind=Kind.COMMENT,
            context_touchpoint=answer(tracker, TOUCHPOINT),
        )
        outcome = await record_and_reply(dispatcher, message, ctx.language)
        if outcome is None:
            return [SlotSet(FEEDBACK_ID, None), SlotSet(FEEDBACK_NEGATIVE, False)]
        return [
            SlotSet(FEEDBACK_ID, outcome.feedback_id),
            SlotSet(FEEDBACK_NEGATIVE, wants_followup(outcome)),
            SlotSet(TOUCHPOINT, outcome.touchpoint),
            *reset,
        ]
