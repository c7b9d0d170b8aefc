"""What every channel shares on the way in: the fallback record when Rasa cannot answer.

A channel turns an update into a pseudonymous sender and Rasa's metadata, sends it to Rasa
(:mod:`bot.channels.rasa`) and, when Rasa is down, records the message directly
(:func:`record_directly`), so no feedback is lost. What a person sends goes through
:func:`person_text` first: Rasa reads ``/intent{...}`` as an intent it must not guess, so a
person may send only the payloads of the buttons Vécu offers them; Vécu's own intents
(``EXTERNAL_*``: "your issue is resolved", surveys) come from its trigger calls, never from a
message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from bot.feedback.intake import Message, Outcome, record

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

PERSON_INTENTS = frozenset(
    {"affirm", "deny", "decline", "give_feedback", "rate", "help", "stop", "switch_language"}
)
"""The intents a person's button (or a typed ``/intent``) may name: those of the buttons Vécu
offers, and harmless ones."""
_PAYLOAD = re.compile(r"/+([A-Za-z_][A-Za-z0-9_]*)(\{.*\})?", re.DOTALL)
_TOUCHPOINT = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _entity_ok(name: str, value: object) -> bool:
    if name == "rating":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
    if name == "touchpoint":
        return isinstance(value, str) and _TOUCHPOINT.fullmatch(value) is not None
    if name == "language":
        return value in ("fr", "en")
    return False


def allowed_payload(text: str) -> bool:
    """Whether ``text`` is a payload a person may send: one of :data:`PERSON_INTENTS`, with
    only a rating (0-10), a touchpoint key or a language as entities."""
    match = _PAYLOAD.fullmatch(text.strip())
    if match is None or match.group(1) not in PERSON_INTENTS:
        return False
    if match.group(2) is None:
        return True
    try:
        entities = json.loads(match.group(2))
    except ValueError:
        return False
    return isinstance(entities, dict) and all(_entity_ok(k, v) for k, v in entities.items())


def person_text(text: str) -> str:
    """``text`` as it may reach Rasa from a person: a refused payload (``/EXTERNAL_…``, an
    unknown intent, a forged entity) loses its leading ``/`` and is read as words."""
    if text.startswith("/") and not allowed_payload(text):
        log.info("a payload no button offers was read as words: %r", text[:60])
        return text.lstrip("/").strip()
    return text


def default_record(message: Message, *, services: Services | None = None) -> Outcome:
    """Record ``message`` as feedback (:func:`bot.feedback.intake.record`)."""
    return record(message, services=services)


Recorder = Callable[..., Outcome]
"""``record(message, *, services=None) -> Outcome`` (default:
:func:`bot.feedback.intake.record`)."""


async def record_directly(
    message: Message, *, record: Recorder = default_record, services: Services | None = None
) -> bool:
    """Record ``message`` directly because Rasa is down; ``False`` when even that failed.

    Shared by every gateway (web chat, Telegram): the recorder runs in a worker thread
    (it is synchronous: scoring and database), and any failure is logged, never raised.
    """
    try:
        outcome = await run_in_threadpool(record, message, services=services)
    except Exception:
        log.exception(
            "could not record a %s message while Rasa is down (sender %s)",
            message.channel,
            message.conversation_id,
        )
        return False
    log.warning(
        "Rasa unavailable: %s message recorded directly as feedback %s",
        message.channel,
        outcome.feedback_id,
    )
    return True
