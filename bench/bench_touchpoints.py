"""Touchpoint and team detection on a bilingual dev set (``bench/touchpoints-dev.jsonl``).

Each line is a realistic customer message phrased unlike the NLU training examples, with
every touchpoint it names (the primary one first). This measures what Vécu itself decides
(:func:`bot.touchpoints.detect_touchpoint`: the keywords of ``company.yml``, no NLU entity,
no conversation context) per language: primary touchpoint, owning team, and the share of
named touchpoints found. Run with ``make bench-touchpoints`` (``SET=bench/touchpoints-fresh.jsonl``
for the set written after the keywords, never used to tune them).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from bot.company import load_company
from bot.settings import ROOT
from bot.touchpoints import detect_touchpoint

DEV = ROOT / "bench" / "touchpoints-dev.jsonl"


def main(path: Path = DEV) -> int:
    company = load_company(ROOT / "company.yml", env={})
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        expected = case["touchpoints"]
        match = detect_touchpoint(case["text"], company=company)
        found = [match.touchpoint, *match.others] if match.touchpoint else []
        row = totals[case["language"]]
        row["n"] += 1
        row["touchpoint"] += match.touchpoint == expected[0]
        row["team"] += company.team_for(match.touchpoint) == company.team_for(expected[0])
        row["named"] += len(expected)
        row["named_found"] += len(set(expected) & set(found))
        if found != expected:
            misses.append(f"  {case['language']}  expected {expected}, got {found}: {case['text']}")
    print(f"{'language':<9}{'n':>4}{'touchpoint':>12}{'team':>8}{'all named':>11}")
    for language, row in sorted(totals.items()):
        print(
            f"{language:<9}{row['n']:>4}{row['touchpoint'] / row['n']:>12.2f}"
            f"{row['team'] / row['n']:>8.2f}{row['named_found'] / row['named']:>11.2f}"
        )
    if misses:
        print("not exactly right:\n" + "\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEV))
