"""Builders shared by the action tests: scorers, trackers, and readers of action results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.scoring.base import StaticScorer

GROUPS = ("anger", "frustration", "confusion", "fear", "sadness", "disgust", "surprise", "joy",
          "gratitude", "neutral")  # fmt: skip


def _emotions(main: str, p: float = 0.7) -> dict[str, float]:
    rest = (1 - p) / (len(GROUPS) - 1)
    return {g: (p if g == main else rest) for g in GROUPS}


ANGRY = StaticScorer(
    {"negative": 0.9, "neutral": 0.07, "positive": 0.03}, _emotions("anger"), version="angry"
)
HAPPY = StaticScorer(
    {"negative": 0.02, "neutral": 0.08, "positive": 0.9}, _emotions("joy"), version="happy"
)
NEUTRAL = StaticScorer(
    {"negative": 0.1, "neutral": 0.8, "positive": 0.1}, _emotions("neutral"), version="neutral"
)


def make_tracker(
    text: str = "",
    *,
    intent: str | None = None,
    entities: Sequence[tuple[str, Any]] = (),
    slots: Mapping[str, Any] | None = None,
    sender: str = "p_0123456789abcdef",
    message_id: str | None = None,
    earlier: Sequence[tuple[str, str]] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest user message is ``text`` (with ``intent`` and ``entities``).

    ``message_id`` is the id the channel gave that message (metadata); ``earlier`` are
    ``(text, message_id)`` user messages before it; ``metadata`` is the rest of the channel's
    metadata of the latest message (``original_length``…).
    """
    extra = dict(metadata or {})
    metadata = {**extra, **({"message_id": message_id} if message_id else {})}
    users = [*earlier, (text, message_id or "")] if text else list(earlier)
    events = [
        {
            "event": "user",
            "text": said,
            "metadata": {
                **(extra if said == text else {}),
                **({"message_id": said_id} if said_id else {}),
            },
        }
        for said, said_id in users
    ]
    return Tracker(
        sender_id=sender,
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99} if intent else {},
            "entities": [{"entity": name, "value": value} for name, value in entities],
            "metadata": metadata,
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The response names the action asked for, in order."""
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def slot_events(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The slots the returned events set (last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
