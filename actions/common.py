"""What every Vécu action reads from the tracker, in one place.

This module owns the translation between Rasa's tracker (slots, metadata, the latest
message) and :mod:`bot`'s vocabulary: :class:`Context` (who speaks, in which language, on
which channel, on which rating scale), the touchpoint and rating entities of the latest
message, and the label of a team in the person's language. It defines no action: rasa-sdk
registers every concrete ``Action`` subclass it finds, so actions live one per module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from bot.domain import Audience, RatingScale
from bot.i18n import normalize_language
from bot.i18n import supported_language as i18n_supported_language
from bot.services import get_services

LANGUAGE = "language"
AUDIENCE = "audience"
CHANNEL = "channel"
SCALE = "scale"
TOUCHPOINT = "touchpoint"
RATING = "rating"
COMMENT = "comment"
FOLLOWUP = "followup"
FEEDBACK_ID = "feedback_id"
FEEDBACK_NEGATIVE = "feedback_negative"
ENPS = "enps"
ENGAGEMENT = "engagement"
PULSE_TEXT = "pulse_text"
STOPPED = "stopped"
EXPECTATION = "expectation"
MEANS = "means"
MIRROR = "mirror"
MEMBER_TEAM = "member_team"

REQUESTED_SLOT = "requested_slot"
SKIPPED = "__skipped__"
"""A question's slot when the person declined it: the form moves on, the recorders skip it."""
DECLINE_INTENTS = frozenset({"decline", "deny"})
"""Intents that answer a question without answering it ("skip", "je sais pas", "non merci")."""

CONTEXT_SLOTS = (LANGUAGE, AUDIENCE, CHANNEL, SCALE, STOPPED)
"""Slots that describe the conversation rather than one exchange (kept across sessions)."""

CUSTOMER_SCALES = (RatingScale.CSAT, RatingScale.NPS)
MAX_CHANNEL_LENGTH = 32


@dataclass(frozen=True)
class Context:
    """Who is speaking and how, as the tracker knows it.

    Attributes:
        conversation_id: Rasa's sender id, already a pseudonym (never a name).
        language: ``fr`` or ``en`` (the slot, else the default language).
        audience: customer or employee.
        channel: ``web``, ``telegram``, ``rest``…
        scale: the customer rating scale in use (CSAT unless the channel asked for NPS).
    """

    conversation_id: str
    language: str
    audience: Audience
    channel: str
    scale: RatingScale


def supported_language(value: Any) -> str | None:
    """``fr``/``en`` for values such as ``fr-CA`` or ``EN``; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    return i18n_supported_language(value)


def supported_audience(value: Any) -> Audience | None:
    """The audience named by ``value`` (``customer``/``employee``), else ``None``."""
    try:
        return Audience(str(value).strip().lower()) if value is not None else None
    except ValueError:
        return None


def supported_scale(value: Any) -> RatingScale | None:
    """The customer scale named by ``value`` (``csat``/``nps``), else ``None``."""
    try:
        scale = RatingScale(str(value).strip().lower()) if value is not None else None
    except ValueError:
        return None
    return scale if scale in CUSTOMER_SCALES else None


def supported_channel(value: Any) -> str | None:
    """A short, printable channel name, else ``None``."""
    if not isinstance(value, str):
        return None
    clean = "".join(c for c in value.strip().lower() if c.isalnum() or c in "-_.")
    return clean[:MAX_CHANNEL_LENGTH] or None


def context(tracker: Tracker) -> Context:
    """Read the conversation's :class:`Context` from the tracker's slots."""
    return Context(
        conversation_id=tracker.sender_id,
        language=normalize_language(supported_language(tracker.get_slot(LANGUAGE))),
        audience=supported_audience(tracker.get_slot(AUDIENCE)) or Audience.CUSTOMER,
        channel=supported_channel(tracker.get_slot(CHANNEL)) or "rest",
        scale=supported_scale(tracker.get_slot(SCALE)) or RatingScale.CSAT,
    )


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message (``""`` for a button payload or no message)."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def _metadata_of(tracker: Tracker, text: Any) -> Mapping[str, Any]:
    """The channel's metadata of the (latest) user message whose own words ``text`` is."""
    if not isinstance(text, str) or not text or text.startswith("/"):
        return {}
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("text") == text:
            metadata = event.get("metadata") or (event.get("parse_data") or {}).get("metadata")
            return metadata if isinstance(metadata, Mapping) else {}
    return {}


def original_length_of(tracker: Tracker, text: Any) -> int | None:
    """How long the person's message was before the channel cut it to ``text`` (the web
    chat's ``original_length``), else ``None``: the record says it was truncated."""
    found = _metadata_of(tracker, text).get("original_length")
    if isinstance(found, int) and not isinstance(found, bool) and found > len(text):
        return found
    return None


def message_id_of(tracker: Tracker, text: Any) -> str | None:
    """The channel's id of the (latest) user message whose own words ``text`` is.

    A record made with it is stored once even if the channel already recorded that message
    itself (Rasa was late, see :mod:`bot.channels.web.chat`); a form's answer recorded turns later
    finds the id of the message that carried it. ``None`` when no message of the tracker
    has these words, or when the channel gave no id.
    """
    found = _metadata_of(tracker, text).get("message_id")
    return found if isinstance(found, str) and found else None


def latest_intent(tracker: Tracker) -> str | None:
    """The NLU intent of the latest user message, if any."""
    intent: Mapping[str, Any] = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def latest_entity(tracker: Tracker, entity: str) -> Any:
    """The value of the last ``entity`` in the latest user message, if any."""
    values = list(tracker.get_latest_entity_values(entity))
    return values[-1] if values else None


def latest_entities(tracker: Tracker, entity: str) -> tuple[str, ...]:
    """Every distinct text value of ``entity`` in the latest user message, in order."""
    values = (v for v in tracker.get_latest_entity_values(entity) if isinstance(v, str))
    return tuple(dict.fromkeys(values))


def as_rating(value: Any) -> int | None:
    """A rating from a slot or entity value: ``4``, ``"4"``, ``4.0`` → 4; else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_id(value: Any) -> int | None:
    """A stored record id from a slot (``12``, ``"12"``, ``12.0``); ``None`` unless positive."""
    found = as_rating(value)
    return found if found is not None and found > 0 else None


def team_label(team: str | None, language: str) -> str | None:
    """The name of ``team`` in ``language`` (from the company configuration)."""
    if team is None:
        return None

    found = get_services().company.team(team)
    return found.label(language) if found else None


def answer(tracker: Tracker, slot: str) -> Any:
    """The slot's value as an answer: ``None`` when unset or declined (:data:`SKIPPED`)."""
    value = tracker.get_slot(slot)
    return None if value == SKIPPED else value
