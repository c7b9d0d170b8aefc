"""Touchpoint per message: which moment of the journey one message is about.

This module owns the decision, made for **every message on its own** (journeys are not
linear: a message about delivery may follow a rating of the store), in this order:

1. every touchpoint the message names competes: the NLU entities of this message (when
   they name a touchpoint of the speaker's audience, or, for a raw entity value NLU did not
   map to a key — ``facture`` —, when that value is one of its keywords) and the keywords of
   the configuration found in the text (accent- and case-insensitive, whole words, a
   trailing plural ``s``/``x`` or feminine ``e``/``ées`` accepted, every language's keywords
   at once since people mix them). The highest ``priority`` wins (safety), then the most
   weight (one per keyword found, :data:`NLU_WEIGHT` for an entity the keywords miss and
   :data:`NLU_AGREES_WEIGHT` for one they find, :data:`CONTEXT_WEIGHT`
   more for the conversation's touchpoint), ties going to the earliest mention; the others
   are kept, best first (one message often names two touchpoints);
2. else the conversation's context (the touchpoint the conversation was about, e.g. the
   slot set when the person picked a touchpoint), if valid for the audience;
3. else ``None``.

It also owns :func:`fold` and :class:`KeywordMatcher`, reused by the severity rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.company import Company
from bot.domain import Audience

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
                rf"(?<!\w)(?:{alternatives})(?:s|x|es|e|ees)?(?!\w)"
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
    MEANING = "meaning"
    NONE = "none"


@dataclass(frozen=True)
class TouchpointMatch:
    """The touchpoint of one message and why.

    Attributes:
        touchpoint: the touchpoint key, or ``None``.
        source: which signal decided.
        keywords: the (folded) keywords found in the text for that touchpoint.
        others: every other touchpoint the message names, best first (journeys are not
            linear: "charged twice and nobody answers the phone" is billing, then support).
    """

    touchpoint: str | None
    source: Source
    keywords: tuple[str, ...] = ()
    others: tuple[str, ...] = ()


NLU_WEIGHT = 1.5
"""What an NLU entity naming a touchpoint the keywords miss weighs (one per keyword found)."""
NLU_AGREES_WEIGHT = 0.5
"""What an NLU entity adds to a touchpoint the keywords found too (it breaks a tie)."""
CONTEXT_WEIGHT = 1.0
"""What the conversation's touchpoint adds to a touchpoint the message names anyway."""
_NOWHERE = 1 << 30

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


@dataclass
class _Candidate:
    priority: int
    weight: float = 0.0
    first: int = _NOWHERE
    keywords: tuple[str, ...] = ()
    nlu: bool = False


def _keyword_candidates(
    text: str, company: Company, allowed: Mapping[str, Any]
) -> dict[str, _Candidate]:
    found_by: dict[str, _Candidate] = {}
    for key, matcher in _matchers(company).items():
        if key not in allowed:
            continue
        found = matcher.find(text)
        if found:
            found_by[key] = _Candidate(
                priority=allowed[key].priority,
                weight=float(len(found)),
                first=min(pos for pos, _ in found),
                keywords=tuple(word for _, word in found),
            )
    return found_by


def _ranked(candidates: Mapping[str, _Candidate]) -> list[str]:
    """Highest priority first, then the most weight, then the earliest mention."""
    return sorted(
        candidates,
        key=lambda k: (-candidates[k].priority, -candidates[k].weight, candidates[k].first, k),
    )


def keyword_touchpoint(
    text: str, *, company: Company, audience: Audience | str
) -> TouchpointMatch | None:
    """The touchpoint whose keywords the text mentions most (``None`` when none)."""
    candidates = _keyword_candidates(text, company, company.touchpoints_for(audience))
    if not candidates:
        return None
    ranked = _ranked(candidates)
    best = ranked[0]
    return TouchpointMatch(best, Source.KEYWORDS, candidates[best].keywords, tuple(ranked[1:]))


def _valid(key: str | None, company: Company, audience: Audience | str) -> str | None:
    if not key:
        return None
    key = key.strip().lower()
    tp = company.touchpoint(key)
    return key if tp is not None and tp.audience == Audience(audience).value else None


def _nlu_key(value: str, company: Company, audience: Audience | str) -> str | None:
    """The touchpoint an NLU entity value names: a key, or a raw value read as keywords."""
    valid = _valid(value, company, audience)
    if valid:
        return valid
    from_value = keyword_touchpoint(value, company=company, audience=audience)
    return from_value.touchpoint if from_value else None


def detect_touchpoint(
    text: str,
    *,
    company: Company,
    audience: Audience | str = Audience.CUSTOMER,
    hint: str | None = None,
    context: str | None = None,
    mentions: Sequence[str] = (),
) -> TouchpointMatch:
    """Decide the touchpoint of one message, and every other touchpoint it names.

    Every touchpoint the message names competes: each keyword found counts one, an NLU
    entity naming one the keywords miss counts :data:`NLU_WEIGHT` (one the keywords find too
    adds :data:`NLU_AGREES_WEIGHT`: it breaks a tie), and the conversation's context adds
    :data:`CONTEXT_WEIGHT` to a touchpoint the message names anyway. The highest
    ``priority`` wins (safety), then the most weight, then the earliest mention; the others
    are :attr:`TouchpointMatch.others`, best first.

    Args:
        text: the message.
        company: the company configuration.
        audience: who speaks (only that audience's touchpoints are considered).
        hint: the touchpoint NLU extracted from this message (entity), if any.
        context: the touchpoint the conversation was about (slot), if any.
        mentions: every other touchpoint entity NLU found in this message.

    Returns:
        The decision with its source (``nlu`` when an entity named the winner, else
        ``keywords``; ``context`` or ``none`` when the message names no touchpoint).
        Unknown or other-audience hints and contexts are ignored.
    """
    allowed = company.touchpoints_for(audience)
    candidates = _keyword_candidates(text, company, allowed)
    for value in (hint, *mentions):
        key = _nlu_key(value, company, audience) if value else None
        if key is None:
            continue
        if key not in candidates:
            candidates[key] = _Candidate(priority=allowed[key].priority, weight=NLU_WEIGHT)
        elif not candidates[key].nlu:  # NLU agrees with the keywords: it breaks a tie
            candidates[key].weight += NLU_AGREES_WEIGHT
        candidates[key].nlu = True
    valid_context = _valid(context, company, audience)
    if not candidates:
        if valid_context:
            return TouchpointMatch(valid_context, Source.CONTEXT)
        return TouchpointMatch(None, Source.NONE)
    if valid_context in candidates:
        candidates[valid_context].weight += CONTEXT_WEIGHT
    ranked = _ranked(candidates)
    best = candidates[ranked[0]]
    return TouchpointMatch(
        ranked[0], Source.NLU if best.nlu else Source.KEYWORDS, best.keywords, tuple(ranked[1:])
    )
