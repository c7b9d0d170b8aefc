"""Lefranc's questions: what customers expect of a touchpoint, and what employees can deliver.

This module owns the recording side of the *expected*, *proposed* and *mirror* experiences
(the dashboard side is :mod:`bot.analytics`): :func:`record_expectation` (a customer's
expected level for a touchpoint, asked before or at it, 1-5), :func:`record_touchpoint_pulse`
(an employee's "I have what I need to deliver it well", 1-5, and their estimate of how
customers rate it, 1-5), and :func:`question_touchpoint`, which says whether a key names a
customer touchpoint the questions can be about, with its label in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain import Audience, Kind, RatingScale
from bot.feedback.intake import Message, record, valid_rating
from bot.services import get_services

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class QuestionTouchpoint:
    """A customer touchpoint a Lefranc question is about."""

    key: str
    label: str
    team: str


def question_touchpoint(
    key: str | None, language: str, *, services: Services | None = None
) -> QuestionTouchpoint | None:
    """The customer touchpoint ``key`` with its label in ``language`` (``None`` if not one)."""
    company = (services or get_services()).company
    tp = company.touchpoint(key)
    if tp is None or tp.audience != Audience.CUSTOMER.value or key is None:
        return None
    return QuestionTouchpoint(key=key, label=tp.label(language), team=tp.team)


def record_expectation(
    *,
    conversation_id: str,
    touchpoint: str,
    rating: int,
    language: str,
    channel: str,
    services: Services | None = None,
) -> int:
    """Store a customer's expected level (1-5) for ``touchpoint``; returns the feedback id.

    Raises:
        ValueError: the rating is not 1-5 or the touchpoint is not a customer touchpoint.
        StorageError: the database refused the write.
    """
    _check(touchpoint, rating, RatingScale.EXPECTATION, language, services)
    outcome = record(
        Message(
            conversation_id=conversation_id,
            text="",
            language=language,
            channel=channel,
            audience=Audience.CUSTOMER,
            rating=rating,
            scale=RatingScale.EXPECTATION,
            touchpoint=touchpoint,
            kind=Kind.EXPECTATION,
        ),
        services=services,
    )
    return outcome.feedback_id


def record_touchpoint_pulse(
    *,
    conversation_id: str,
    touchpoint: str,
    means: int | None,
    mirror: int | None,
    language: str,
    channel: str,
    member_team: str | None = None,
    services: Services | None = None,
) -> list[int]:
    """Store an employee's *proposed* (means, 1-5) and *mirror* (1-5) answers about ``touchpoint``.

    Either answer may be missing (the employee stopped); each given one is one row.

    Raises:
        ValueError: a rating is not 1-5 or the touchpoint is not a customer touchpoint.
        StorageError: the database refused the write.
    """
    ids = []
    for rating, scale, kind in (
        (means, RatingScale.MEANS, Kind.PROPOSED),
        (mirror, RatingScale.MIRROR, Kind.MIRROR),
    ):
        if rating is None:
            continue
        _check(touchpoint, rating, scale, language, services)
        outcome = record(
            Message(
                conversation_id=conversation_id,
                text="",
                language=language,
                channel=channel,
                audience=Audience.EMPLOYEE,
                rating=rating,
                scale=scale,
                touchpoint=touchpoint,
                kind=kind,
                member_team=member_team,
            ),
            services=services,
        )
        ids.append(outcome.feedback_id)
    return ids


def _check(
    touchpoint: str, rating: int, scale: RatingScale, language: str, services: Services | None
) -> None:
    if not valid_rating(rating, scale):
        raise ValueError(f"rating {rating!r} is not 1-5")
    if question_touchpoint(touchpoint, language, services=services) is None:
        raise ValueError(f"{touchpoint!r} is not a customer touchpoint")
