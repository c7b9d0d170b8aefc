"""Tests of bench/nlu_report.py: the confusion matrix and F1 summary of ``make nlu-cv``."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def nlu_report() -> ModuleType:
    """bench/nlu_report.py (the repository root is on the path: pyproject's pythonpath)."""
    return importlib.import_module("bench.nlu_report")


REPORT = {
    "praise": {"precision": 0.8, "recall": 0.8, "f1-score": 0.8, "support": 10},
    "complain": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 10},
    "decline": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 5},
    "accuracy": 0.88,
    "macro avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 25},
    "weighted avg": {"precision": 0.88, "recall": 0.88, "f1-score": 0.88, "support": 25},
}
ERRORS = [
    {"text": "a", "intent": "praise", "intent_prediction": {"name": "complain"}},
    {"text": "b", "intent": "praise", "intent_prediction": {"name": "complain"}},
    {"text": "c", "intent": "complain", "intent_prediction": {"name": "decline"}},
]


def test_the_matrix_rows_sum_to_the_support_and_the_pair_rate(nlu_report: ModuleType) -> None:
    matrix = nlu_report.confusion(REPORT, ERRORS)
    assert matrix["praise"] == {"praise": 8, "complain": 2}
    assert matrix["complain"] == {"complain": 9, "decline": 1}
    assert {k: sum(v.values()) for k, v in matrix.items()} == {
        "praise": 10, "complain": 10, "decline": 5
    }  # fmt: skip
    assert nlu_report.pair_rate(matrix, "praise", "complain") == pytest.approx(2 / 20)
    assert nlu_report.pair_rate(matrix, "nothing", "else") is None


def test_main_prints_each_language_and_says_when_cv_was_not_run(
    nlu_report: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "nlu-fr"
    folder.mkdir()
    (folder / "intent_report.json").write_text(json.dumps(REPORT))
    (folder / "intent_errors.json").write_text(json.dumps(ERRORS))
    monkeypatch.setattr(nlu_report, "RESULTS", tmp_path)
    assert nlu_report.main(["fr", "en"]) == 1
    out = capsys.readouterr().out
    assert "== fr: intent accuracy 0.880, macro-F1 0.900" in out
    assert "praise <-> complain confusions: 10.0%" in out
    assert "== en: no" in out and "make nlu-cv" in out
