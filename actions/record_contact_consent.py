"""Action ``action_record_contact_consent``: may we tell the person when it is resolved?

Reads the answer to ``utter_ask_contact`` (intent ``affirm`` or ``deny``), stores it with
:func:`bot.contact.routes.answer_contact_question` (the conversation's contact routes and the
ledger's consent for ``followup``) and confirms with ``utter_contact_yes``, or
``utter_contact_no`` when the answer was no or an earlier opt-out still holds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import context, latest_intent
from bot.contact.routes import answer_contact_question
from bot.errors import VecuError

_log = logging.getLogger(__name__)


class ActionRecordContactConsent(Action):
    """Store the person's consent to be contacted back about their issue."""

    def name(self) -> str:
        return "action_record_contact_consent"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ctx = context(tracker)
        consent = latest_intent(tracker) == "affirm"
        try:
            allowed = await asyncio.to_thread(
                answer_contact_question,
                ctx.conversation_id,
                consent,
                channel=ctx.channel,
                audience=str(ctx.audience),
                language=ctx.language,
            )
        except VecuError:
            _log.exception("contact consent of %s could not be stored", ctx.conversation_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        dispatcher.utter_message(response="utter_contact_yes" if allowed else "utter_contact_no")
        return []
