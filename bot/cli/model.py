"""The ``vecu model`` commands: ``train`` and ``eval`` of the emotion model.

This module owns the command-line surface of :mod:`bot.model`: :func:`register` adds a
``model`` command (with ``train`` and ``eval``) to an argparse subparsers object (used by
``bot/cli/main.py``), and ``python -m bot.cli.model`` runs the same commands standalone.
Heavy imports happen only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.errors import ScoringError
from bot.model import evaluate

DEFAULT_MODEL_DIR = Path("models/emotion")
DEFAULT_INDOMAIN = Path("bench/indomain-dev.jsonl")


def _train(args: argparse.Namespace) -> int:
    try:
        from bot.model import train  # noqa: PLC0415 (torch, from the optional train extra)
    except ImportError as exc:  # torch & co. come with the "train" extra
        print(f"training needs the train extra (pip install -e .[train]): {exc}", file=sys.stderr)
        return 2
    indomain = Path(args.indomain) if args.indomain else None
    res = train.run(
        Path(args.data), Path(args.out), Path(args.config) if args.config else None, indomain
    )
    print(json.dumps(res, indent=2))
    return 0


def _format(res: dict[str, Any]) -> str:
    lines = []
    for name, vals in res.items():
        parts = ", ".join(f"{k}={v}" for k, v in vals.items())
        lines.append(f"{name:28s} {parts}")
    return "\n".join(lines)


def _eval(args: argparse.Namespace) -> int:
    indomain = Path(args.indomain) if args.indomain else None
    try:
        res = evaluate.evaluate_dir(
            Path(args.data), Path(args.model), indomain=indomain, latency_check=not args.no_latency
        )
    except ScoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(res, indent=2) if args.json else _format(res))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``model`` command (``train``, ``eval``) to ``subparsers``."""
    model = subparsers.add_parser("model", help="train or evaluate the emotion model")
    sub = model.add_subparsers(dest="model_command", required=True)
    tr = sub.add_parser("train", help="train the emotion model (needs the train extra)")
    tr.add_argument("--data", required=True, help="data directory (layout of ../shared/data)")
    tr.add_argument("--out", default=str(DEFAULT_MODEL_DIR), help="model directory to write")
    tr.add_argument("--config", default=None, help="training config (YAML)")
    tr.add_argument(
        "--indomain",
        default=str(DEFAULT_INDOMAIN),
        help="in-domain dev set, reported on (never trained on)",
    )
    tr.set_defaults(func=_train)
    ev = sub.add_parser("eval", help="macro-F1 per set, latency and load time")
    ev.add_argument("--data", required=True, help="data directory (layout of ../shared/data)")
    ev.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="model directory")
    ev.add_argument("--indomain", default=str(DEFAULT_INDOMAIN), help="in-domain dev set")
    ev.add_argument("--json", action="store_true", help="print JSON")
    ev.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    ev.set_defaults(func=_eval)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m bot.cli.model {train,eval} ...``."""
    parser = argparse.ArgumentParser(prog="vecu")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["model", *(argv if argv is not None else sys.argv[1:])])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
