"""Tests of actions/session_start.py: metadata becomes conversation state."""

from __future__ import annotations

from typing import Any

from action_helpers import make_tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.session_start import ActionSessionStart, slots_from_metadata


async def _start(slots: dict[str, Any]) -> list[dict[str, Any]]:
    return await ActionSessionStart().run(CollectingDispatcher(), make_tracker(slots=slots), {})


async def test_metadata_sets_language_audience_channel_and_scale() -> None:
    metadata = {"language": "fr-CA", "audience": "employee", "channel": "web", "scale": "nps"}
    events = await _start({"session_started_metadata": metadata})
    assert events[0]["event"] == "session_started"
    assert events[-1] == {**events[-1], "event": "action", "name": "action_listen"}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"language": "fr", "audience": "employee", "channel": "web", "scale": "nps"}


def test_unsupported_metadata_is_ignored() -> None:
    assert slots_from_metadata(
        {"language": "de", "audience": "admin", "channel": "<script>", "scale": "enps"}
    ) == {"channel": "script"}
    assert slots_from_metadata(None) == {}
    assert slots_from_metadata("fr") == {}


async def test_previous_session_state_is_carried_over_unless_metadata_says_otherwise() -> None:
    events = await _start(
        {
            "language": "en",
            "audience": "employee",
            "stopped": True,
            "rating": 3,
            "session_started_metadata": {"language": "fr"},
        }
    )
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"language": "fr", "audience": "employee", "stopped": True}
