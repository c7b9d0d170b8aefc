"""PII redaction benchmark: precision/recall per category and time per message.

Runs :func:`bot.privacy.redaction.redact`'s redactor (the shipped spaCy models and the company's
order patterns) over the labelled fixture set ``tests/fixtures/redaction.jsonl`` and reports,
per category, precision and recall (scored as in ``tests/bot/test_redaction.py``), then the
model load time per language and p50/p95/max time per message (each message redacted
``--repeat`` times, after a warm-up).

    .venv/bin/python bench/bench_redaction.py            # table
    .venv/bin/python bench/bench_redaction.py --json     # machine-readable
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bot"))


def main() -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from test_redaction import evaluate, load_examples

    from bot.company import load_company
    from bot.privacy.redaction import SpacyNameFinder, redactor_for

    company = load_company(ROOT / "company.yml", env={})
    redactor = redactor_for(company)
    loads: dict[str, float] = {}
    assert isinstance(redactor.names, SpacyNameFinder)
    for language in ("fr", "en"):
        start = time.perf_counter()
        redactor.names.available(language)
        loads[language] = time.perf_counter() - start
    examples = load_examples()
    counts = evaluate(examples, redactor)
    times: dict[str, list[float]] = {"fr": [], "en": []}
    for _ in range(args.repeat):
        for example in examples:
            start = time.perf_counter()
            redactor.redact(str(example["text"]), str(example["language"]))
            times[str(example["language"])].append((time.perf_counter() - start) * 1000)
    result: dict[str, Any] = {
        "messages": len(examples),
        "categories": {
            k: {
                "precision": round(c.precision, 3),
                "recall": round(c.recall, 3),
                "gold": c.gold,
                "predicted": c.predicted,
            }
            for k, c in counts.items()
        },
        "load_s": {k: round(v, 2) for k, v in loads.items()},
        "ms_per_message": {
            k: {
                "p50": round(statistics.median(v), 1),
                "p95": round(sorted(v)[int(len(v) * 0.95) - 1], 1),
                "max": round(max(v), 1),
            }
            for k, v in times.items()
        },
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{result['messages']} messages (tests/fixtures/redaction.jsonl)")
    print(f"{'category':<12} {'precision':>9} {'recall':>7} {'gold':>5} {'found':>6}")
    for k, c in result["categories"].items():
        print(
            f"{k:<12} {c['precision']:>9.3f} {c['recall']:>7.3f} {c['gold']:>5} {c['predicted']:>6}"
        )
    for k in ("fr", "en"):
        ms = result["ms_per_message"][k]
        print(
            f"{k}: model load {result['load_s'][k]} s; per message p50 {ms['p50']} ms, "
            f"p95 {ms['p95']} ms, max {ms['max']} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
