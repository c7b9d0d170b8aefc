"""Tests of bench/bench_touchpoints.py: scores per language and the misses listed."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest


def test_scores_per_language_with_keywords_then_meaning_and_lists_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = importlib.import_module("bench.bench_touchpoints")
    cases = [
        {"language": "fr", "text": "Mon colis est arrivé écrasé", "touchpoints": ["delivery"]},
        {"language": "en", "text": "I was charged twice on my invoice", "touchpoints": ["billing"]},
        {"language": "en", "text": "the lady at the till was rude to me", "touchpoints": ["store"]},
        {
            "language": "fr",
            "audience": "employee",
            "text": "le scanner plante encore",
            "touchpoints": ["tools"],
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases), encoding="utf-8")
    assert bench.main(path) == 0
    out = capsys.readouterr().out
    keywords, meaning = out.split("== keywords, then meaning\n")
    assert keywords.startswith("== keywords alone\n")

    def rows(section: str) -> dict[str, list[str]]:
        return {
            line.split()[0]: line.split()[1:]
            for line in section.splitlines()
            if line[:2] in ("fr", "en")
        }

    employee = ["1", "1.00", "1.00", "1.00"]

    assert rows(keywords) == {
        "en": ["2", "0.50", "0.50", "0.50"],
        "fr": ["1", "1.00", "1.00", "1.00"],
        "fr/employee": employee,
    }
    assert "expected ['store'], got []: the lady at the till" in keywords
    assert rows(meaning) == {
        "en": ["2", "1.00", "1.00", "1.00"],
        "fr": ["1", "1.00", "1.00", "1.00"],
        "fr/employee": employee,
    }
    assert "not exactly right" not in meaning


def test_both_sets_are_well_formed() -> None:
    from bot.company import load_company
    from bot.settings import ROOT

    company = load_company(ROOT / "company.yml", env={})
    for name in ("touchpoints-dev.jsonl", "touchpoints-fresh.jsonl"):
        lines = (ROOT / "bench" / name).read_text(encoding="utf-8").splitlines()
        for line in lines:
            case = json.loads(line)
            assert case["language"] in ("fr", "en") and case["text"]
            audience = case.get("audience", "customer")
            touchpoints = [company.touchpoint(key) for key in case["touchpoints"]]
            assert all(t and t.audience == audience for t in touchpoints), case
