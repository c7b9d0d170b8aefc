"""Tests of bot/scoring/groups.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.scoring.groups import DEFAULT_GROUPS, EKMAN_GROUPS, GOEMOTIONS_LABELS, validate_groups

LABELS_FILE = (
    Path(__file__).parents[3]
    / ".."
    / "shared"
    / "data"
    / "emotion"
    / ("goemotions-original/labels.txt")
)


def test_labels_are_goemotions_28_in_order() -> None:
    assert len(GOEMOTIONS_LABELS) == 28 == len(set(GOEMOTIONS_LABELS))
    assert GOEMOTIONS_LABELS[0] == "admiration" and GOEMOTIONS_LABELS[-1] == "neutral"
    if LABELS_FILE.exists():
        assert tuple(LABELS_FILE.read_text().split()) == GOEMOTIONS_LABELS


def test_default_groups_cover_every_label_once() -> None:
    used = [label for labels in DEFAULT_GROUPS.values() for label in labels]
    assert sorted(used) == sorted(GOEMOTIONS_LABELS)
    assert list(DEFAULT_GROUPS) == [
        "anger",
        "frustration",
        "confusion",
        "fear",
        "sadness",
        "disgust",
        "surprise",
        "joy",
        "gratitude",
        "neutral",
    ]


def test_ekman_mapping_covers_every_label_once() -> None:
    used = [label for labels in EKMAN_GROUPS.values() for label in labels]
    assert sorted(used) == sorted(GOEMOTIONS_LABELS)


def test_validate_groups_rejects_bad_groups() -> None:
    validate_groups(DEFAULT_GROUPS)
    with pytest.raises(ValueError, match="no label"):
        validate_groups({"empty": []})
    with pytest.raises(ValueError, match="unknown"):
        validate_groups({"x": ["anger", "rage"]})
