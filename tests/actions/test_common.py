"""Tests of actions/common.py: reading the tracker in bot's vocabulary."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import make_tracker

from actions.common import (
    as_id,
    as_rating,
    context,
    latest_entity,
    latest_text,
    message_id_of,
    supported_language,
    team_label,
)
from bot.domain import Audience, RatingScale
from bot.services import Services


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4, 4), ("4", 4), (" 10 ", 10), (4.0, 4), (4.5, None), ("4/5", None), (True, None),
     (None, None), ("", None), ("-1", None)],
)  # fmt: skip
def test_as_rating(value: Any, expected: int | None) -> None:
    assert as_rating(value) == expected


def test_as_id_is_positive() -> None:
    assert (as_id(12), as_id("12"), as_id(0), as_id(None)) == (12, 12, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("fr", "fr"), ("fr-CA", "fr"), ("EN_us", "en"), ("de", None), ("", None), (3, None)],
)
def test_supported_language(value: Any, expected: str | None) -> None:
    assert supported_language(value) == expected


def test_context_defaults_and_values() -> None:
    empty = context(make_tracker(sender="p_abc"))
    assert (empty.conversation_id, empty.language, empty.audience, empty.scale) == (
        "p_abc", "fr", Audience.CUSTOMER, RatingScale.CSAT
    )  # fmt: skip
    full = context(
        make_tracker(
            slots={"language": "en", "audience": "employee", "scale": "nps", "channel": "Telegram"}
        )
    )
    assert (full.language, full.audience, full.scale, full.channel) == (
        "en", Audience.EMPLOYEE, RatingScale.NPS, "telegram"
    )  # fmt: skip


def test_button_payload_is_not_text_and_entities_are_read() -> None:
    tracker = make_tracker('/rate{"rating": 4}', entities=[("rating", 4)])
    assert latest_text(tracker) == ""
    assert latest_entity(tracker, "rating") == 4
    assert latest_entity(tracker, "touchpoint") is None


def test_team_label_in_both_languages(services: Services) -> None:
    assert team_label("customer_care", "fr") == "Service à la clientèle"
    assert team_label("customer_care", "en") == "Customer care"
    assert team_label(None, "fr") is None
    assert team_label("nobody", "fr") is None


def test_message_id_of_finds_the_message_that_carried_the_words() -> None:
    tracker = make_tracker("4", message_id="m-2", earlier=[("le colis était en retard", "m-1")])
    assert message_id_of(tracker, "4") == "m-2"
    assert message_id_of(tracker, "le colis était en retard") == "m-1"  # a form's earlier answer
    assert message_id_of(tracker, "never said") is None
    assert message_id_of(tracker, "") is None and message_id_of(tracker, None) is None
    assert message_id_of(make_tracker('/rate{"rating": 4}', message_id="m-3"), "/rate") is None
    assert message_id_of(make_tracker("bonjour"), "bonjour") is None  # the channel gave no id
