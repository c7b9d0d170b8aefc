"""The GoEmotions label set and the default emotion groups the product shows.

This module owns :data:`GOEMOTIONS_LABELS` (the 28 labels in GoEmotions' own order, which
is the model's output order), :data:`DEFAULT_GROUPS` (the default grouping of those labels
that the company configuration may override) and :data:`EKMAN_GROUPS` (GoEmotions' own
Ekman mapping, used only for benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)

DEFAULT_GROUPS: Mapping[str, Sequence[str]] = {
    "anger": ("anger",),
    "frustration": ("annoyance", "disappointment", "disapproval"),
    "confusion": ("confusion",),
    "fear": ("fear", "nervousness"),
    "sadness": ("sadness", "grief", "remorse", "embarrassment"),
    "disgust": ("disgust",),
    "surprise": ("surprise", "realization"),
    "joy": (
        "joy",
        "amusement",
        "excitement",
        "love",
        "optimism",
        "pride",
        "relief",
        "admiration",
        "approval",
        "caring",
        "desire",
    ),
    "gratitude": ("gratitude",),
    "neutral": ("neutral", "curiosity"),
}

# GoEmotions' ekman_mapping.json (neutral added as its own class).
EKMAN_GROUPS: Mapping[str, Sequence[str]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}


def validate_groups(groups: Mapping[str, Sequence[str]]) -> None:
    """Raise ``ValueError`` if a group is empty or names a label GoEmotions lacks."""
    known = set(GOEMOTIONS_LABELS)
    for name, labels in groups.items():
        if not labels:
            raise ValueError(f"emotion group {name!r} has no label")
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise ValueError(f"emotion group {name!r} names unknown labels: {unknown}")
