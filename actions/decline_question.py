"""Declined questions: "non merci", "plus tard", "skip", "je sais pas" at any question.

Inside a form, :func:`skip_if_declined` (called by the forms' ``extract_<slot>`` methods) fills
the question's slot with :data:`~actions.common.SKIPPED` when the person declines the
question being asked, records the decline with :func:`bot.feedback.declines.record_decline`, and the
form moves on to its next question; the recording actions then leave that answer out. A
free-text question is skipped only on the ``decline`` intent ("je sais pas", "skip": a "non"
there may begin an answer), and an answer longer than a few words is kept as the answer even
when NLU reads it as a decline: nothing the person wrote is dropped.

Outside a form, ``action_record_decline`` records the decline of the rating asked after
unprompted feedback (``utter_ask_rating``) and says it is fine (``utter_decline_noted``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import (
    DECLINE_INTENTS,
    FEEDBACK_ID,
    FOLLOWUP,
    REQUESTED_SLOT,
    SKIPPED,
    TOUCHPOINT,
    answer,
    as_id,
    context,
    latest_intent,
    latest_text,
)
from bot.errors import VecuError
from bot.feedback.declines import Question, is_short_decline, record_decline

_log = logging.getLogger(__name__)
TEXT_DECLINE_INTENTS = frozenset({"decline"})


async def _record(tracker: Tracker, question: Question) -> None:
    ctx = context(tracker)
    touchpoint = answer(tracker, TOUCHPOINT)
    try:
        await asyncio.to_thread(
            record_decline,
            conversation_id=ctx.conversation_id,
            question=question,
            audience=ctx.audience,
            channel=ctx.channel,
            language=ctx.language,
            touchpoint=touchpoint if isinstance(touchpoint, str) else None,
            feedback_id=as_id(tracker.get_slot(FEEDBACK_ID)),
        )
    except VecuError:  # the skip itself still works: the person is not stuck on a question
        _log.exception("decline of %s by %s could not be recorded", question, ctx.conversation_id)


async def skip_if_declined(
    tracker: Tracker, slot: str, *, free_text: bool = False, also: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``{slot: SKIPPED}`` when the person declines the question now asked, else ``{}``.

    Args:
        tracker: the conversation.
        slot: the form's slot (and :class:`bot.feedback.declines.Question`) being asked.
        free_text: the question asks for words: a long answer is kept as the answer.
        also: slots skipped with it (a declined touchpoint leaves nothing to ask about).
    """
    if tracker.get_slot(REQUESTED_SLOT) != slot or tracker.get_slot(slot) is not None:
        return {}
    # "non" to a free-text question may be the start of an answer ("non, c'est nul"): only
    # the decline intent skips it; "non merci" to a rating skips it.
    if latest_intent(tracker) not in (TEXT_DECLINE_INTENTS if free_text else DECLINE_INTENTS):
        return {}
    text = latest_text(tracker)
    if free_text and text.strip() and not is_short_decline(text):
        return {slot: text}
    await _record(tracker, Question(slot))
    return {slot: SKIPPED, **{other: SKIPPED for other in also}}


class ActionRecordDecline(Action):
    """Record a declined rating question (outside a form) and say it is fine."""

    def name(self) -> str:
        return "action_record_decline"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        await _record(tracker, Question.RATING)
        dispatcher.utter_message(response="utter_decline_noted")
        return []


class ValidateFollowupForm(FormValidationAction):
    """The follow-up question ("what would have made it right?") may be declined too."""

    def name(self) -> str:
        return "validate_followup_form"

    async def extract_followup(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Skip the follow-up when declined (a long answer is kept)."""
        return await skip_if_declined(tracker, FOLLOWUP, free_text=True)
