"""Action ``action_session_start``: language, audience and channel are state from the start.

Channels send Rasa ``metadata`` such as ``{"language": "fr", "audience": "employee",
"channel": "web", "scale": "nps"}``; Rasa hands it to this action as the
``session_started_metadata`` slot. Supported values become slots; anything else is ignored
(a language still unknown is detected from the first message by
``action_detect_language``). The conversation slots of a previous session are carried over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    AUDIENCE,
    CHANNEL,
    CONTEXT_SLOTS,
    LANGUAGE,
    MEMBER_TEAM,
    SCALE,
    supported_audience,
    supported_channel,
    supported_language,
    supported_scale,
)

METADATA_SLOT = "session_started_metadata"


def _audience(value: Any) -> str | None:
    found = supported_audience(value)
    return found.value if found else None


def _scale(value: Any) -> str | None:
    found = supported_scale(value)
    return found.value if found else None


_READERS: dict[str, Callable[[Any], str | None]] = {
    LANGUAGE: supported_language,
    AUDIENCE: _audience,
    CHANNEL: supported_channel,
    SCALE: _scale,
    MEMBER_TEAM: supported_channel,  # a team key: the same short, printable shape as a channel
}


def slots_from_metadata(metadata: Any) -> dict[str, Any]:
    """The conversation slots the channel's metadata sets (unsupported values dropped)."""
    if not isinstance(metadata, Mapping):
        return {}
    found = {slot: read(metadata.get(slot)) for slot, read in _READERS.items()}
    return {slot: value for slot, value in found.items() if value is not None}


class ActionSessionStart(Action):
    """Start a session with the slots the channel's metadata and the last session give."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        carried = {
            slot: tracker.slots.get(slot)
            for slot in CONTEXT_SLOTS
            if tracker.slots.get(slot) is not None
        }
        values = {**carried, **slots_from_metadata(tracker.get_slot(METADATA_SLOT))}
        return [
            SessionStarted(),
            *(SlotSet(slot, value) for slot, value in values.items()),
            ActionExecuted("action_listen"),
        ]
