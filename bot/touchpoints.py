"""Touchpoint per message: which moment of the journey one message is about.

This module owns the decision, made for **every message on its own** (journeys are not
linear: a message about delivery may follow a rating of the store), in this order:

1. the NLU hint (an entity of this message), when it names a touchpoint of the speaker's
   audience in the company configuration, or, for a raw entity value NLU did not map to a
   key (``facture``), when that value is one of its keywords;
2. keywords of the configuration found in the text (accent- and case-insensitive, whole
   words, a trailing plural ``s``/``x`` accepted, every language's keywords at once since
   people mix them); the touchpoint with the highest ``priority`` wins (safety), then the
   one with the most keyword words, ties going to the earliest mention;
3. the conversation's context (the touchpoint the conversation was about, e.g. the slot
   set when the person picked a touchpoint), if valid for the audience;
4. ``None``.

It also owns :func:`fold` and :class:`KeywordMatcher`, reused by the severity rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.company import Company
from bot.feedback import Audience

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"[\s\-_]+")


def fold(text: str) -> str:
    """Lowercase, strip accents, unify apostrophes and collapse spaces/hyphens.

    ``"Chargé  DEUX-fois"`` → ``"charge deux fois"``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip()


class KeywordMatcher:
    """Finds whole-word keywords (accent/case-insensitive, optional plural) in texts."""

    def __init__(self, keywords: Iterable[str]) -> None:
        folded = sorted({fold(k) for k in keywords if fold(k)}, key=len, reverse=True)
        self.keywords: tuple[str, ...] = tuple(folded)
        if folded:
            alternatives = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in folded)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<!\w)(?:{alternatives})(?:s|x|es)?(?!\w)"
            )
        else:
            self._pattern = None

    def find(self, text: str) -> list[tuple[int, str]]:
        """Every non-overlapping match in ``text``: ``(position, matched folded text)``."""
        if self._pattern is None:
            return []
        return [(m.start(), m.group(0)) for m in self._pattern.finditer(fold(text))]

    def matches(self, text: str) -> bool:
        """Whether any keyword occurs in ``text``."""
        return self._pattern is not None and self._pattern.search(fold(text)) is not None


class Source(StrEnum):
    """Where a touchpoint decision came from."""

    NLU = "nlu"
    KEYWORDS = "keywords"
    CONTEXT = "context"
    NONE = "none"


@dataclass(frozen=True)
class TouchpointMatch:
    """The touchpoint of one message and why.

    Attributes:
        touchpoint: the touchpoint key, or ``None``.
        source: which signal decided.
        keywords: the (folded) keywords found in the text for that touchpoint.
    """

    touchpoint: str | None
    source: Source
    keywords: tuple[str, ...] = ()


_MATCHERS: dict[int, tuple[Company, dict[str, KeywordMatcher]]] = {}


def _matchers(company: Company) -> dict[str, KeywordMatcher]:
    """One matcher per touchpoint, built once per configuration object."""
    cached = _MATCHERS.get(id(company))
    if cached is not None and cached[0] is company:
        return cached[1]
    if len(_MATCHERS) > 16:
        _MATCHERS.clear()
    matchers = {
        key: KeywordMatcher(word for words in tp.keywords.values() for word in words)
        for key, tp in company.touchpoints.items()
    }
    _MATCHERS[id(company)] = (company, matchers)
    return matchers


def keyword_touchpoint(
    text: str, *, company: Company, audience: Audience | str
) -> TouchpointMatch | None:
    """The touchpoint whose keywords the text mentions most (``None`` when none)."""
    allowed = company.touchpoints_for(audience)
    best: tuple[int, int, int, str, tuple[str, ...]] | None = None
    for key, matcher in _matchers(company).items():
        if key not in allowed:
            continue
        found = matcher.find(text)
        if not found:
            continue
        weight = sum(len(word.split()) for _, word in found)
        first = min(pos for pos, _ in found)
        priority = allowed[key].priority
        candidate = (-priority, -weight, first, key, tuple(word for _, word in found))
        if best is None or candidate[:3] < best[:3]:
            best = candidate
    if best is None:
        return None
    return TouchpointMatch(best[3], Source.KEYWORDS, best[4])


def _valid(key: str | None, company: Company, audience: Audience | str) -> str | None:
    if not key:
        return None
    key = key.strip().lower()
    tp = company.touchpoint(key)
    return key if tp is not None and tp.audience == Audience(audience).value else None


def detect_touchpoint(
    text: str,
    *,
    company: Company,
    audience: Audience | str = Audience.CUSTOMER,
    hint: str | None = None,
    context: str | None = None,
) -> TouchpointMatch:
    """Decide the touchpoint of one message.

    Args:
        text: the message.
        company: the company configuration.
        audience: who speaks (only that audience's touchpoints are considered).
        hint: the touchpoint NLU extracted from this message (entity), if any.
        context: the touchpoint the conversation was about (slot), if any.

    Returns:
        The decision with its source (NLU hint > keywords > context > none). Unknown
        or other-audience hints and contexts are ignored.
    """
    valid_hint = _valid(hint, company, audience)
    if valid_hint:
        return TouchpointMatch(valid_hint, Source.NLU)
    if hint:  # an entity value NLU did not map to a key ("facture"): read it as keywords
        from_hint = keyword_touchpoint(hint, company=company, audience=audience)
        if from_hint is not None:
            return TouchpointMatch(from_hint.touchpoint, Source.NLU, from_hint.keywords)
    by_keywords = keyword_touchpoint(text, company=company, audience=audience)
    if by_keywords is not None:
        return by_keywords
    valid_context = _valid(context, company, audience)
    if valid_context:
        return TouchpointMatch(valid_context, Source.CONTEXT)
    return TouchpointMatch(None, Source.NONE)
