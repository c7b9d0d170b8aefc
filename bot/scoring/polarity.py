"""Polarity of a whole message: negative, neutral, positive, or **mixed**.

The model scores a message as one text, and a message that praises one thing and reports a
problem with another ("I love the new app but the checkout page keeps freezing") reads as
positive overall. This module owns the decision that such a message is *mixed*, from the
scores of its parts, so that the reply acknowledges both halves and the problem still
reaches the team that owns it.

* :func:`segments` cuts a message into clauses at sentence ends and at contrast words
  (``but``, ``however``, ``mais``, ``par contre``, ``sauf que``, ``pis``…), remembering which
  clauses follow a contrast word.
* :func:`polarity` reads the whole message's scores and its clauses' scores (one batch of
  the scorer, whole message first: see :func:`texts_to_score`).

Decisions: a message is mixed when one clause is clearly positive (positive is its most
probable label, at least :data:`POSITIVE_MIN`) and another is clearly not: in a message
with a contrast word, a clause whose positive probability stays under
:data:`OTHER_MAX_POSITIVE` and under its negative or neutral one (people put the problem
after the "but" in words the model often reads as neutral: "the delivery was late"); in any
message, a clause that leans negative (negative at least :data:`NEGATIVE_MIN`, above positive).
Across a contrast word the positive side may also only lean positive (positive at least
:data:`LEANING_MIN` and above negative) when it beats the other clause's positive
probability by :data:`CONTRAST_GAP` ("the staff were friendly but the delivery was late").
Otherwise the polarity is the whole message's most probable sentiment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.scoring.base import Scores

MAX_SEGMENTS = 6
"""At most this many clauses are scored (the first ones); longer messages keep their rest."""
MIN_SEGMENT_CHARS = 3
POSITIVE_MIN = 0.5
OTHER_MAX_POSITIVE = 0.4
NEGATIVE_MIN = 0.4
LEANING_MIN = 0.4
CONTRAST_GAP = 0.2

_CONTRAST = (
    # English
    r"but|however|though|although|even though|except that|apart from that|"
    r"unfortunately|sadly|on the other hand|whereas"
    # French (France and Québec), with and without accents
    r"|mais|cependant|par contre|pourtant|toutefois|néanmoins|neanmoins|sauf que|"
    r"malheureusement|en revanche|bien que|même si|meme si|alors que|tandis que|"
    r"quoique|pis là|pis la|reste que"
)
_CONTRAST_RE = re.compile(rf"(?<!\w)(?:{_CONTRAST})(?!\w)", re.IGNORECASE)
_SENTENCE_RE = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=\w)\s*[.!?;…]+\s*$")


class Polarity(StrEnum):
    """What a message says overall."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    MIXED = "mixed"


@dataclass(frozen=True)
class Segment:
    """One clause of a message.

    Attributes:
        text: the clause (without the contrast word that opens it).
        after_contrast: whether a contrast word separates it from the clause before.
    """

    text: str
    after_contrast: bool


def segments(text: str) -> list[Segment]:
    """The clauses of ``text``, in order (at most :data:`MAX_SEGMENTS`).

    ``"Great app, but checkout freezes. Support was slow"`` →
    ``[Great app (no contrast), checkout freezes (contrast), Support was slow (no contrast)]``.
    """
    found: list[Segment] = []
    for sentence in _SENTENCE_RE.split(text):
        contrast = False
        start = 0
        for match in _CONTRAST_RE.finditer(sentence):
            piece = sentence[start : match.start()].strip(" ,;:-—–")
            if len(piece) >= MIN_SEGMENT_CHARS:
                found.append(Segment(piece, contrast))
            contrast = True
            start = match.end()
        piece = sentence[start:].strip(" ,;:-—–.!?…")
        if len(piece) >= MIN_SEGMENT_CHARS:
            found.append(Segment(piece, contrast))
    return found[:MAX_SEGMENTS]


def texts_to_score(text: str) -> tuple[list[str], list[Segment]]:
    """What to send the scorer in one batch: the whole message, then its clauses.

    A message of one clause is scored once (the list holds only ``text``).
    """
    parts = segments(text)
    if len(parts) < 2:
        return [text], []
    return [text, *(part.text for part in parts)], parts


def _label(scores: Scores) -> str:
    return scores.sentiment_label


def _clearly_positive(scores: Scores) -> bool:
    return _label(scores) == "positive" and scores.sentiment["positive"] >= POSITIVE_MIN


def _leans_positive(scores: Scores) -> bool:
    s = scores.sentiment
    return s["positive"] >= LEANING_MIN and s["positive"] > s["negative"]


def _not_positive(scores: Scores) -> bool:
    s = scores.sentiment
    return s["positive"] < OTHER_MAX_POSITIVE and s["positive"] < max(s["negative"], s["neutral"])


def _leans_negative(scores: Scores) -> bool:
    s = scores.sentiment
    return s["negative"] >= NEGATIVE_MIN and s["negative"] > s["positive"]


def polarity(whole: Scores, parts: Sequence[Segment], part_scores: Sequence[Scores]) -> Polarity:
    """The polarity of a message from its own scores and its clauses' scores.

    Args:
        whole: the scores of the whole message.
        parts: its clauses (:func:`segments`); empty for a one-clause message.
        part_scores: the scores of each clause, same order.

    Returns:
        :attr:`Polarity.MIXED` when a positive clause and a clearly non-positive one are
        both present (see the module's rules), else the whole message's sentiment.
    """
    label = Polarity(_label(whole))
    if len(parts) < 2 or len(parts) != len(part_scores):
        return label
    contrast = any(part.after_contrast for part in parts[1:])
    for i, good in enumerate(part_scores):
        clear = _clearly_positive(good)
        leaning = contrast and _leans_positive(good)
        if not (clear or leaning):
            continue
        for j, other in enumerate(part_scores):
            if j == i:
                continue
            if _leans_negative(other):
                return Polarity.MIXED
            gap = good.sentiment["positive"] - other.sentiment["positive"]
            if contrast and _not_positive(other) and (clear or gap >= CONTRAST_GAP):
                return Polarity.MIXED
    return label
