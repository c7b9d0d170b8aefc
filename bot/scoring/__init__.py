"""Scoring of feedback texts: the contract, the shipped ONNX scorer and the fake.

Importing this package loads no model (``OnnxScorer`` loads lazily on first use).
"""

from bot.scoring.base import Scorer, Scores, StaticScorer
from bot.scoring.groups import DEFAULT_GROUPS, EKMAN_GROUPS, GOEMOTIONS_LABELS
from bot.scoring.onnx import OnnxScorer

__all__ = [
    "DEFAULT_GROUPS",
    "EKMAN_GROUPS",
    "GOEMOTIONS_LABELS",
    "OnnxScorer",
    "Scorer",
    "Scores",
    "StaticScorer",
]
