"""Touchpoint and team detection on a bilingual dev set (``bench/touchpoints-dev.jsonl``).

Each line is a realistic message phrased unlike the NLU training examples, with every
touchpoint it names (the primary one first), from a customer unless its ``audience`` says
``employee``. This measures what Vécu itself decides with no NLU entity and no conversation
context, per language (employees on rows of their own): primary touchpoint, owning team,
and the share of named touchpoints found; first with the keywords of ``company.yml`` alone
(:func:`bot.feedback.touchpoints.detect_touchpoint`), then with the touchpoint-by-meaning fallback
of
:mod:`bot.company.topics` for the messages the keywords leave without touchpoint (as
``bot.feedback.intake.record`` does). Run with ``make bench-touchpoints``
(``SET=bench/touchpoints-fresh.jsonl`` for the set written after the keywords and the
fallback, never used to tune them).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from bot.company import Company, load_company
from bot.company.topics import TopicIndex, generic_messages, nlu_examples, shared_embedder
from bot.feedback.touchpoints import TouchpointMatch, detect_touchpoint
from bot.settings import ROOT

DEV = ROOT / "bench" / "touchpoints-dev.jsonl"


def decide(
    text: str, company: Company, topics: TopicIndex | None, audience: str = "customer"
) -> list[str]:
    """Every touchpoint found in ``text``, the primary one first (keywords, then meaning)."""
    match: TouchpointMatch = detect_touchpoint(text, company=company, audience=audience)
    if match.touchpoint:
        return [match.touchpoint, *match.others]
    guessed = topics.guess(text, audience) if topics else None
    return [guessed] if guessed else []


def main(path: Path = DEV) -> int:
    company = load_company(ROOT / "company.yml", env={})
    topics = TopicIndex(
        company,
        examples=nlu_examples(ROOT / "nlu"),
        generic=generic_messages(),
        embedder=shared_embedder(),
    )
    for title, index in (("keywords alone", None), ("keywords, then meaning", topics)):
        print(f"== {title}")
        report(path, company, index)
    return 0


def report(path: Path, company: Company, topics: TopicIndex | None) -> None:
    """Print the accuracy per language of one way of deciding, and its misses."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        expected = case["touchpoints"]
        audience = case.get("audience", "customer")
        found = decide(case["text"], company, topics, audience)
        primary = found[0] if found else None
        language = case["language"] if audience == "customer" else f"{case['language']}/{audience}"
        row = totals[language]
        row["n"] += 1
        row["touchpoint"] += primary == expected[0]
        row["team"] += company.team_for(primary) == company.team_for(expected[0])
        row["named"] += len(expected)
        row["named_found"] += len(set(expected) & set(found))
        if found != expected:
            misses.append(f"  {language}  expected {expected}, got {found}: {case['text']}")
    print(f"{'language':<12}{'n':>4}{'touchpoint':>12}{'team':>8}{'all named':>11}")
    for language, row in sorted(totals.items()):
        print(
            f"{language:<12}{row['n']:>4}{row['touchpoint'] / row['n']:>12.2f}"
            f"{row['team'] / row['n']:>8.2f}{row['named_found'] / row['named']:>11.2f}"
        )
    if misses:
        print("not exactly right:\n" + "\n".join(misses))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEV))
