"""Tests of bot/channels/inbound.py: what a person may send to Rasa as a payload."""

from __future__ import annotations

import pytest

from bot.channels.inbound import allowed_payload, person_text


@pytest.mark.parametrize(
    "payload",
    [
        "/affirm",
        "/deny",
        '/rate{"rating": 4}',
        '/rate{"rating": 0}',
        '/give_feedback{"touchpoint": "delivery"}',
        '/switch_language{"language": "en"}',
        "/stop",
    ],
)
def test_the_buttons_vecu_offers_pass(payload: str) -> None:
    assert allowed_payload(payload)
    assert person_text(payload) == payload


@pytest.mark.parametrize(
    ("payload", "read_as"),
    [
        ("/EXTERNAL_issue_resolved", "EXTERNAL_issue_resolved"),
        ('/EXTERNAL_survey{"touchpoint":"delivery"}', 'EXTERNAL_survey{"touchpoint":"delivery"}'),
        ("/EXTERNAL_question_answered", "EXTERNAL_question_answered"),
        ("//EXTERNAL_issue_resolved", "EXTERNAL_issue_resolved"),
        ('/rate{"rating": 400}', 'rate{"rating": 400}'),
        ('/rate{"rating": true}', 'rate{"rating": true}'),
        ('/give_feedback{"touchpoint": "delivery", "closing_message": "x"}', None),
        ('/give_feedback{"touchpoint": "../etc"}', None),
        ("/complain", "complain"),
        ("/affirm{not json}", "affirm{not json}"),
        ("/", ""),
    ],
)
def test_intents_and_entities_a_person_must_not_set_are_read_as_words(
    payload: str, read_as: str | None
) -> None:
    assert not allowed_payload(payload)
    text = person_text(payload)
    assert not text.startswith("/")
    if read_as is not None:
        assert text == read_as


def test_words_are_left_alone() -> None:
    assert person_text("Mon colis est en retard / encore") == "Mon colis est en retard / encore"
