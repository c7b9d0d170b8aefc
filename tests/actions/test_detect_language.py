"""Tests of actions/detect_language.py: the language is detected once, then kept."""

from __future__ import annotations

import pytest
from action_helpers import make_tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.detect_language import ActionDetectLanguage


async def _detect(text: str, language: str | None = None) -> list:
    tracker = make_tracker(text, slots={"language": language})
    return await ActionDetectLanguage().run(CollectingDispatcher(), tracker, {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon colis est arrivé écrasé, c'est inacceptable", "fr"),
        ("my parcel arrived crushed and nobody answers the phone", "en"),
    ],
)
async def test_first_message_sets_the_language(text: str, expected: str) -> None:
    [event] = await _detect(text)
    assert (event["name"], event["value"]) == ("language", expected)


async def test_known_language_is_kept() -> None:
    assert await _detect("my parcel arrived crushed", language="fr") == []


@pytest.mark.parametrize("text", ["😡😡", "", '/rate{"rating": 4}', "12345"])
async def test_no_evidence_sets_nothing(text: str) -> None:
    assert await _detect(text) == []
