"""Action ``action_unclear_message``: out-of-scope and not-understood messages, nothing lost.

NLU reads a message in a language Vécu does not speak ("Ich bin sehr unzufrieden mit der
Lieferung") as out of scope or not understood. When :func:`bot.language.detect_any` names
another language, the message is feedback all the same: it is recorded (stored with the
language ``other``, routed by touchpoint keywords where they match) and answered in French
and English with the languages Vécu speaks. A French or English message NLU was not sure
of (``nlu_fallback``) that names a touchpoint ("ma livraison kill 85 est arrivée en retard")
is feedback too: it is recorded and answered like unprompted feedback. Otherwise the usual
answer is given: ``utter_out_of_scope`` or ``utter_default``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    FEEDBACK_ID,
    TOUCHPOINT,
    context,
    latest_entities,
    latest_entity,
    latest_intent,
    latest_text,
    message_id_of,
    original_length_of,
)
from actions.record_feedback import record_and_reply
from bot.domain import Kind
from bot.feedback.intake import Message, names_touchpoint
from bot.language import detect_any


class ActionUnclearMessage(Action):
    """Record a message in another language or one that names a touchpoint, else say what
    Vécu can do."""

    def name(self) -> str:
        return "action_unclear_message"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        text = latest_text(tracker)
        found = detect_any(text) if text else None
        ctx = context(tracker)
        spoken = found is None or found in ("fr", "en")
        if spoken and not (intent == "nlu_fallback" and names_touchpoint(text, ctx.audience)):
            usual = "utter_out_of_scope" if intent == "out_of_scope" else "utter_default"
            dispatcher.utter_message(response=usual)
            return []
        message = Message(
            conversation_id=ctx.conversation_id,
            text=text,
            message_id=message_id_of(tracker, text),
            original_length=original_length_of(tracker, text),
            language=ctx.language,
            audience=ctx.audience,
            channel=ctx.channel,
            touchpoint=latest_entity(tracker, TOUCHPOINT),
            mentions=latest_entities(tracker, TOUCHPOINT),
            intent=intent,
            kind=Kind.COMMENT,
        )
        outcome = await record_and_reply(dispatcher, message, ctx.language)
        if outcome is None:
            return []
        return [SlotSet(FEEDBACK_ID, outcome.feedback_id), SlotSet(TOUCHPOINT, outcome.touchpoint)]
