"""Tests of bot/feedback/declines.py: a declined question is stored without text, never lost."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.errors import StorageError
from bot.feedback.declines import MAX_DECLINE_WORDS, Question, is_short_decline, record_decline
from bot.feedback.intake import Message, record
from bot.storage.models import DeclinedQuestionRecord


def stored(services: Any) -> list[DeclinedQuestionRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(DeclinedQuestionRecord)))


def test_a_decline_is_stored_with_its_feedback_and_touchpoint(make_services: Any) -> None:
    services = make_services()
    feedback = record(Message("p_c1", "la facture", "fr"), services=services)
    row_id = record_decline(
        conversation_id="p_c1",
        question=Question.RATING,
        audience="customer",
        channel="web",
        language="fr-CA",
        touchpoint="billing",
        feedback_id=feedback.feedback_id,
        services=services,
    )
    [row] = stored(services)
    assert row.id == row_id and row.question == "rating" and row.language == "fr"
    assert (row.touchpoint, row.feedback_id) == ("billing", feedback.feedback_id)


def test_unknown_references_are_dropped_not_the_decline(make_services: Any) -> None:
    services = make_services()
    record_decline(
        conversation_id="p_c1",
        question="enps",
        audience="employee",
        channel="telegram",
        language="en",
        touchpoint="parapluie",
        feedback_id=999,
        services=services,
    )
    [row] = stored(services)
    assert (row.question, row.touchpoint, row.feedback_id) == ("enps", None, None)
    with pytest.raises(ValueError):
        record_decline(
            conversation_id="p_c1",
            question="favourite colour",
            audience="customer",
            channel="web",
            language="en",
            services=services,
        )


def test_a_database_failure_is_a_storage_error(make_services: Any) -> None:
    services = make_services()
    with services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE declined_question")
    with pytest.raises(StorageError):
        record_decline(
            conversation_id="p_c1",
            question="rating",
            audience="customer",
            channel="web",
            language="fr",
            services=services,
        )


def test_short_declines_and_real_answers() -> None:
    assert is_short_decline("je sais pas") and is_short_decline("skip") and is_short_decline("")
    assert not is_short_decline(" ".join(["mot"] * (MAX_DECLINE_WORDS + 1)))
