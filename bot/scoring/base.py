"""The scoring contract: what every part of Vécu may expect from a scorer.

A scorer turns texts into sentiment probabilities (negative, neutral, positive) and
emotion probabilities over the emotion *groups* of the company configuration (each group
is a set of GoEmotions labels). The shipped implementation is
:class:`bot.scoring.onnx.OnnxScorer`; :class:`StaticScorer` is the in-tree fake for
plumbing tests (it returns what the test gives it, nothing guessed from the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Scores:
    """The scores of one text.

    Attributes:
        sentiment: probability per sentiment label (sums to 1).
        emotions: probability per emotion group, in the configuration's order.
        model_version: the version of the model that produced them.
        raw_emotions: probability per GoEmotions label, when asked for.
    """

    sentiment: Mapping[str, float]
    emotions: Mapping[str, float]
    model_version: str
    raw_emotions: Mapping[str, float] | None = field(default=None)

    @property
    def sentiment_label(self) -> str:
        """The most probable sentiment."""
        return max(self.sentiment, key=lambda k: self.sentiment[k])

    @property
    def emotion_label(self) -> str:
        """The most probable emotion group."""
        return max(self.emotions, key=lambda k: self.emotions[k])

    def top_emotions(self, n: int = 2) -> list[str]:
        """The ``n`` most probable emotion groups, best first."""
        return sorted(self.emotions, key=lambda k: self.emotions[k], reverse=True)[:n]


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores texts in batches."""

    @property
    def version(self) -> str:
        """The model version recorded with every feedback."""
        ...

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        """Score ``texts`` (one :class:`Scores` per text, same order)."""
        ...


class StaticScorer:
    """A fake scorer for plumbing tests: returns the scores it was built with."""

    def __init__(
        self,
        sentiment: Mapping[str, float],
        emotions: Mapping[str, float],
        version: str = "static-test",
    ) -> None:
        self._scores = Scores(dict(sentiment), dict(emotions), version)

    @property
    def version(self) -> str:
        return self._scores.model_version

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        return [self._scores for _ in texts]
