"""Action ``action_detect_language``: the language of a person the channel did not name.

Rasa runs it after every user message (custom mapping of the ``language`` slot) unless the
message asked to switch language. While the slot is empty it asks
:func:`bot.language.detect` about the latest message; once the language is known it does
nothing, so a person is answered in one language until they ask to switch.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LANGUAGE, latest_text
from bot.language import detect


class ActionDetectLanguage(Action):
    """Set the ``language`` slot from the latest message while it is unknown."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        if tracker.get_slot(LANGUAGE):
            return []
        language = detect(latest_text(tracker))
        return [SlotSet(LANGUAGE, language)] if language else []
