"""Tests of bench/bench_touchpoints.py: scores per language and the misses listed."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest


def test_scores_per_language_and_lists_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = importlib.import_module("bench.bench_touchpoints")
    cases = [
        {"language": "fr", "text": "Mon colis est arrivé écrasé", "touchpoints": ["delivery"]},
        {"language": "en", "text": "I was charged twice on my invoice", "touchpoints": ["billing"]},
        {"language": "en", "text": "The zipper broke after two days", "touchpoints": ["product"]},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases), encoding="utf-8")
    assert bench.main(path) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:3]}
    assert rows["fr"] == ["1", "1.00", "1.00", "1.00"]
    assert rows["en"] == ["2", "0.50", "0.50", "0.50"]
    assert "expected ['product'], got []: The zipper broke" in out


def test_both_sets_are_well_formed() -> None:
    from bot.company import load_company
    from bot.settings import ROOT

    company = load_company(ROOT / "company.yml", env={})
    for name in ("touchpoints-dev.jsonl", "touchpoints-fresh.jsonl"):
        lines = (ROOT / "bench" / name).read_text(encoding="utf-8").splitlines()
        for line in lines:
            case = json.loads(line)
            assert case["language"] in ("fr", "en") and case["text"]
            assert all(company.touchpoint(key) for key in case["touchpoints"]), case
