"""Declined questions: a person may skip any question, and the skip is recorded.

"non merci", "plus tard", "skip", "je sais pas" answer a question without answering it. This
module owns :func:`record_decline` (one ``declined_question`` row: which question, where,
when, about which touchpoint; never any text) and :func:`is_short_decline`, which tells a
decline apart from real words that NLU happened to read as one: a free-text answer longer
than :data:`MAX_DECLINE_WORDS` words is kept as the person's answer, never dropped.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.domain import Audience
from bot.errors import StorageError
from bot.i18n import normalize_language
from bot.services import get_services
from bot.storage.models import DeclinedQuestionRecord, FeedbackRecord

if TYPE_CHECKING:
    from bot.services import Services

MAX_DECLINE_WORDS = 6
_WORD = re.compile(r"\w+", re.UNICODE)


class Question(StrEnum):
    """The questions Vécu asks (the slot or prompt a decline answers)."""

    TOUCHPOINT = "touchpoint"
    RATING = "rating"
    COMMENT = "comment"
    FOLLOWUP = "followup"
    CONTACT = "contact"
    ENPS = "enps"
    ENGAGEMENT = "engagement"
    PULSE_TEXT = "pulse_text"
    EXPECTATION = "expectation"
    MEANS = "means"
    MIRROR = "mirror"


def is_short_decline(text: str) -> bool:
    """Whether ``text`` is short enough to be only a decline ("je sais pas", "skip")."""
    return len(_WORD.findall(text)) <= MAX_DECLINE_WORDS


def record_decline(
    *,
    conversation_id: str,
    question: Question | str,
    audience: Audience | str,
    channel: str,
    language: str,
    touchpoint: str | None = None,
    feedback_id: int | None = None,
    services: Services | None = None,
) -> int:
    """Store that the person declined ``question``; returns the row's id.

    A touchpoint or feedback id that does not exist is dropped (the decline is kept).

    Raises:
        ValueError: ``question`` is not one of :class:`Question`.
        StorageError: the database refused the write.
    """
    services = services or get_services()
    question = Question(question)
    audience = Audience(audience)
    tp = services.company.touchpoint(touchpoint) if touchpoint else None
    try:
        with services.sessions.begin() as session:
            if feedback_id is not None and session.get(FeedbackRecord, feedback_id) is None:
                feedback_id = None
            row = DeclinedQuestionRecord(
                conversation_id=conversation_id[:128],
                audience=audience.value,
                channel=(channel or "unknown")[:32],
                language=normalize_language(language),
                question=question.value,
                touchpoint=touchpoint if tp is not None else None,
                feedback_id=feedback_id,
                created_at=services.clock(),
            )
            session.add(row)
            session.flush()
            return int(row.id)
    except SQLAlchemyError as exc:
        raise StorageError(f"the decline could not be stored: {exc.__class__.__name__}") from exc
