"""Our in-domain corpus (``corpus/``): messages people write to a company, written and
labelled by us, French (Québec and France) and English, customers and employees.

One message per line in ``corpus/<language>/<name>.txt``, fields separated by ``|``::

    family|register|audience|touchpoint|intent|sentiment|emotions|text

``family`` groups the messages of one story (a short and a long telling, a paraphrase, the
same story told in the other language as ``<file>:<family>``): the split (train / dev / test)
is drawn per family, so no near-duplicate crosses a split or a language.
``register`` is ``qc`` or ``fr`` (French) or ``en``; ``sentiment`` is negative, neutral,
positive or mixed; ``emotions`` are GoEmotions labels, comma-separated. The labelling guide
is ``docs/labelling.md``; the data sheet ``corpus/README.md``.

``python -m bot.model.corpus stats`` counts it; ``python -m bot.model.corpus export --split
train --out FILE`` writes a split as the JSON lines ``vecu model train`` reads
(``indomain_train``; mixed messages keep their emotions and lose their sentiment label).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.model.data import SENTIMENTS as MODEL_SENTIMENTS
from bot.model.data import Example
from bot.scoring.groups import DEFAULT_GROUPS, GOEMOTIONS_LABELS

ROOT = Path(__file__).resolve().parents[2] / "corpus"
FIELDS = ("family", "register", "audience", "touchpoint", "intent", "sentiment", "emotions")
REGISTERS = {"fr": ("qc", "fr"), "en": ("en",)}
AUDIENCES = ("customer", "employee")
TOUCHPOINTS = {
    "customer": ("delivery", "billing", "product", "website", "store", "support"),
    "employee": ("tools", "workload", "management", "training", "pay", "safety"),
}
INTENTS = ("complain", "praise", "give_feedback", "suggest", "ask")
SENTIMENTS = ("negative", "neutral", "positive", "mixed")
SPLITS = (("train", 70), ("dev", 85), ("test", 100))
"""A family's split by the first byte of its hash: below 70 % train, below 85 % dev, else test."""


class CorpusError(ValueError):
    """A corpus line that breaks the format or uses an unknown label."""


@dataclass(frozen=True)
class CorpusMessage:
    """One labelled message."""

    id: str
    family: str
    language: str
    register: str
    audience: str
    touchpoint: str
    intent: str
    sentiment: str
    emotions: tuple[str, ...]
    text: str

    @property
    def split(self) -> str:
        """``train``, ``dev`` or ``test``, the same for every message of the family."""
        return split_of(self.family)

    @property
    def long(self) -> bool:
        """A multi-sentence message (two sentence ends or more, or over 160 characters)."""
        ends = sum(self.text.count(mark) for mark in (". ", "! ", "? ", "… "))
        return ends >= 2 or len(self.text) > 160


def split_of(family: str) -> str:
    """The split of ``family`` (stable: a hash of its id)."""
    bucket = hashlib.sha256(family.encode()).digest()[0] * 100 // 256
    return next(name for name, below in SPLITS if bucket < below)


def parse_line(line: str, *, language: str, source: str, number: int) -> CorpusMessage:
    """One message from one line of ``corpus/<language>/<source>.txt``.

    Raises:
        CorpusError: a wrong field count or an unknown label (with the place).
    """
    where = f"{language}/{source}.txt:{number}"
    parts = line.rstrip("\n").split("|")
    if len(parts) != len(FIELDS) + 1:
        raise CorpusError(f"{where}: {len(parts)} fields, expected {len(FIELDS) + 1}")
    key, register, audience, touchpoint, intent, sentiment, emotions, text = (
        p.strip() for p in parts
    )
    labels = tuple(e.strip() for e in emotions.split(",") if e.strip())
    problems = []
    if register not in REGISTERS.get(language, ()):
        problems.append(f"register {register!r}")
    if audience not in AUDIENCES:
        problems.append(f"audience {audience!r}")
    elif touchpoint not in TOUCHPOINTS[audience]:
        problems.append(f"touchpoint {touchpoint!r} for {audience}")
    if intent not in INTENTS:
        problems.append(f"intent {intent!r}")
    if sentiment not in SENTIMENTS:
        problems.append(f"sentiment {sentiment!r}")
    if not labels or any(e not in GOEMOTIONS_LABELS for e in labels):
        problems.append(f"emotions {emotions!r}")
    if ("neutral" in labels) != (labels == ("neutral",)):
        problems.append("neutral with other emotions")
    if len(text) < 2:
        problems.append("empty text")
    if problems:
        raise CorpusError(f"{where}: " + ", ".join(problems))
    # "delivery:d06" names the family d06 of delivery.txt (a telling in the other language)
    family = "-".join(key.split(":", 1)) if ":" in key else f"{source}-{key}"
    return CorpusMessage(
        id=f"{language}-{source}-{number}",
        family=family,
        language=language,
        register=register,
        audience=audience,
        touchpoint=touchpoint,
        intent=intent,
        sentiment=sentiment,
        emotions=labels,
        text=text,
    )


def read_corpus(root: Path = ROOT) -> list[CorpusMessage]:
    """Every message under ``root`` (files in name order, lines in order).

    Raises:
        CorpusError: the first bad line.
    """
    messages = []
    for language in sorted(REGISTERS):
        for path in sorted((root / language).glob("*.txt")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip() and not line.startswith("#"):
                    messages.append(
                        parse_line(line, language=language, source=path.stem, number=number)
                    )
    return messages


def training_rows(messages: Iterable[CorpusMessage]) -> list[dict[str, object]]:
    """``messages`` as ``vecu model train``'s in-domain rows. A mixed message has no single
    sentiment for the three-way head: it is left out (its emotions are in the labels of the
    clause-level work to come)."""
    return [
        {
            "text": m.text,
            "language": m.language,
            "audience": m.audience,
            "sentiment": m.sentiment,
            "emotions": list(m.emotions),
        }
        for m in messages
        if m.sentiment != "mixed"
    ]


def training_examples(messages: Iterable[CorpusMessage], *, weight: float = 1.0) -> list[Example]:
    """``messages`` as training examples: their GoEmotions labels (every other label of the
    28 a negative) and their sentiment; a mixed message trains the emotions only."""
    return [
        Example(
            m.text,
            sentiment=None if m.sentiment == "mixed" else MODEL_SENTIMENTS.index(m.sentiment),
            emotions=sorted(GOEMOTIONS_LABELS.index(e) for e in m.emotions),
            weight=weight,
            source="corpus-train",
            extra={"language": m.language, "audience": m.audience},
        )
        for m in messages
    ]


def groups_of(labels: Iterable[str]) -> set[str]:
    """The customer-experience groups (:data:`DEFAULT_GROUPS`) that hold ``labels``."""
    return {group for group, members in DEFAULT_GROUPS.items() if set(members) & set(labels)}


def stats(messages: Sequence[CorpusMessage]) -> dict[str, dict[str, int]]:
    """Counts per language, register, split, audience, sentiment, touchpoint and length."""
    out: dict[str, Counter[str]] = {
        "language": Counter(),
        "register": Counter(),
        "split": Counter(),
        "audience": Counter(),
        "sentiment": Counter(),
        "touchpoint": Counter(),
        "intent": Counter(),
        "length": Counter(),
    }
    for m in messages:
        out["language"][m.language] += 1
        out["register"][m.register] += 1
        out["split"][f"{m.language}/{m.split}"] += 1
        out["audience"][f"{m.language}/{m.audience}"] += 1
        out["sentiment"][f"{m.language}/{m.sentiment}"] += 1
        out["touchpoint"][m.touchpoint] += 1
        out["intent"][m.intent] += 1
        out["length"][f"{m.language}/{'long' if m.long else 'short'}"] += 1
    return {name: dict(sorted(counter.items())) for name, counter in out.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.model.corpus stats|export``."""
    parser = argparse.ArgumentParser(prog="python -m bot.model.corpus")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stats", help="count the corpus")
    export = commands.add_parser("export", help="write a split as training rows (JSON lines)")
    export.add_argument("--split", choices=[name for name, _ in SPLITS], required=True)
    export.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        messages = read_corpus()
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "stats":
        print(json.dumps(stats(messages), indent=2, ensure_ascii=False))
        return 0
    rows = training_rows(m for m in messages if m.split == args.split)
    with open(args.out, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
