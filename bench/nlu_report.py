"""Intent F1 per language and the confusion matrix of ``make nlu-cv`` (Rasa cross-validation).

Rasa writes, per language, ``results/nlu-<lang>/intent_report.json`` (precision, recall, F1 and
support per intent) and ``intent_errors.json`` (every misclassified example). This prints, per
language: accuracy, macro-F1, each intent's F1 and support, the full confusion matrix (true
intent in rows, predicted in columns; the diagonal is support minus errors) and the
praise ↔ complaint confusion rate (issue 19's targets: macro-F1 ≥ 0.85 per language,
praise ↔ complaint ≤ 3 %). Run by ``make nlu-cv`` after the cross-validation.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"
SUMMARY_KEYS = ("accuracy", "macro avg", "weighted avg", "micro avg")
PAIR = ("praise", "complain")


def load(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The intent report and the errors Rasa wrote in ``folder``."""
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    errors_file = folder / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    return report, errors


def confusion(report: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """``{true: Counter(predicted)}`` over every example of the cross-validation."""
    matrix: dict[str, Counter[str]] = {}
    for intent, row in report.items():
        if intent in SUMMARY_KEYS or not isinstance(row, dict):
            continue
        matrix[intent] = Counter({intent: int(row.get("support", 0))})
    for error in errors:
        truth = str(error.get("intent"))
        predicted = str((error.get("intent_prediction") or {}).get("name") or "none")
        row = matrix.setdefault(truth, Counter())
        row[truth] -= 1
        row[predicted] += 1
    return matrix


def pair_rate(matrix: dict[str, Counter[str]], a: str, b: str) -> float | None:
    """Share of ``a`` and ``b`` examples predicted as the other one."""
    support = sum(matrix.get(a, Counter()).values()) + sum(matrix.get(b, Counter()).values())
    if not support:
        return None
    crossed = matrix.get(a, Counter())[b] + matrix.get(b, Counter())[a]
    return crossed / support


def render(language: str, report: dict[str, Any], matrix: dict[str, Counter[str]]) -> str:
    """The language's section: summary, per-intent F1, matrix, praise ↔ complaint."""
    macro = report.get("macro avg", {}).get("f1-score")
    accuracy = report.get("accuracy")
    lines = [f"== {language}: intent accuracy {accuracy:.3f}, macro-F1 {macro:.3f}"]
    intents = sorted(matrix)
    for intent in intents:
        row = report.get(intent, {})
        lines.append(f"   {intent:<16} F1 {row.get('f1-score', 0):.3f}  n={row.get('support', 0)}")
    short = [i[:7] for i in intents]
    lines.append("   confusion (rows: true intent, columns: predicted)")
    lines.append("   " + " " * 16 + " ".join(f"{s:>7}" for s in short))
    for intent in intents:
        cells = " ".join(f"{matrix[intent][other] or '.':>7}" for other in intents)
        lines.append(f"   {intent:<16}{cells}")
    rate = pair_rate(matrix, *PAIR)
    if rate is not None:
        lines.append(f"   praise <-> complain confusions: {rate:.1%}")
    return "\n".join(lines)


def main(languages: list[str], prefix: str = "nlu") -> int:
    """Print the report of each language (``results/<prefix>-<lang>``); 1 when one is missing."""
    status = 0
    for language in languages:
        folder = RESULTS / f"{prefix}-{language}"
        if not (folder / "intent_report.json").exists():
            missing = folder / "intent_report.json"
            print(f"== {language}: no {missing}: run `make nlu-cv` (or `make nlu-fresh`) first")
            status = 1
            continue
        report, errors = load(folder)
        print(render(language, report, confusion(report, errors)))
    return status


if __name__ == "__main__":
    args = sys.argv[1:]
    tag = args.pop(args.index("--prefix") + 1) if "--prefix" in args[:-1] else "nlu"
    sys.exit(main([a for a in args if a != "--prefix"] or ["fr", "en"], tag))
