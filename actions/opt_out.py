"""Action ``action_opt_out``: "stop", "arrête", "désabonner", "unsubscribe" hold everywhere.

Calls :func:`bot.contact.routes.opt_out_conversation` once: the person behind this conversation
refuses every purpose (surveys, follow-ups), so no channel of theirs is solicited again,
and what waited in the outbox for them is cancelled. Answers ``utter_stop``, or
``utter_opt_out_failed`` when the refusal could not be stored (the conversation still stops).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import context
from bot.contact.routes import opt_out_conversation
from bot.errors import VecuError

_log = logging.getLogger(__name__)


class ActionOptOut(Action):
    """Record the person's opt-out for all their channels, then say so."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        try:
            await asyncio.to_thread(
                opt_out_conversation,
                ctx.conversation_id,
                channel=ctx.channel,
                audience=ctx.audience.value,
            )
        except VecuError:
            _log.exception("the opt-out of %s could not be recorded", ctx.conversation_id)
            dispatcher.utter_message(response="utter_opt_out_failed")
            return []
        dispatcher.utter_message(response="utter_stop")
        return []
