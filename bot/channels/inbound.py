"""What every channel shares on the way in: the fallback record when Rasa cannot answer.

A channel turns an update into a pseudonymous sender and Rasa's metadata, sends it to Rasa
(:mod:`bot.channels.rasa`) and, when Rasa is down, records the message directly
(:func:`record_directly`), so no feedback is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from bot.feedback.intake import Message, Outcome, record

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


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
