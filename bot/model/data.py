"""Readers for the public training/validation sets (layouts of ``../shared/data``).

This module owns the parsing of the data files and the label mappings used to train and
evaluate the emotion model: XLM-T sentiment (``{split}_text.txt`` / ``{split}_labels.txt``),
GoEmotions original and group (``train.tsv``, ``dev.tsv``, ``test.tsv``), XED English and
French projections, the in-domain development set (``bench/indomain-dev.jsonl``) and the
in-domain training set (``bench/indomain-train.jsonl``, written apart from the development set).
Every reader returns :class:`Example` rows; a missing public file gives an empty list, a missing
in-domain training file (named by the training config) is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.scoring.groups import GOEMOTIONS_LABELS

SENTIMENTS = ("negative", "neutral", "positive")

# XED ids: anger 1, anticipation 2, disgust 3, fear 4, joy 5, sadness 6, surprise 7, trust 8.
# anticipation and trust have no GoEmotions equivalent we trust: they are dropped (a line
# whose only labels are anticipation/trust gives no emotion supervision at all).
XED_TO_GOEMOTIONS: dict[int, str | None] = {
    1: "anger",
    2: None,
    3: "disgust",
    4: "fear",
    5: "joy",
    6: "sadness",
    7: "surprise",
    8: None,
}

GROUP_TO_SENTIMENT: dict[str, int | None] = {
    "negative": 0,
    "neutral": 1,
    "positive": 2,
    "ambiguous": None,
}


@dataclass
class Example:
    """One training/evaluation text.

    Attributes:
        text: the text (without the model's prefix).
        sentiment: 0/1/2 or ``None`` when the set has no sentiment label.
        emotions: GoEmotions label indices (multi-label) or ``None`` when unlabelled.
        weight: the emotion loss weight (lower for noisy sets).
        source: the set's name.
    """

    text: str
    sentiment: int | None = None
    emotions: list[int] | None = None
    weight: float = 1.0
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def read_xlmt(root: Path, lang: str, split: str) -> list[Example]:
    """XLM-T tweets of ``lang`` (fr/en) for ``split`` (train/val/test)."""
    base = root / "sentiment" / f"xlmt-{lang}"
    tf, lf = base / f"{split}_text.txt", base / f"{split}_labels.txt"
    if not tf.exists() or not lf.exists():
        return []
    texts = tf.read_text(encoding="utf-8").split("\n")
    labels = lf.read_text(encoding="utf-8").split("\n")
    texts, labels = texts[: len(labels)], labels
    out = []
    for t, lab in zip(texts, labels, strict=False):
        if lab.strip():
            out.append(Example(t, sentiment=int(lab), source=f"xlmt-{lang}-{split}"))
    return out


def _read_tsv(path: Path) -> list[tuple[str, list[int]]]:
    rows: list[tuple[str, list[int]]] = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[1].strip():
            continue
        try:
            labels = [int(x) for x in parts[1].replace(" ", "").split(",") if x]
        except ValueError:
            continue  # malformed line (XED's French file has a few alignment rows)
        rows.append((parts[0], labels))
    return rows


def read_goemotions(root: Path, split: str) -> list[Example]:
    """GoEmotions original (28 labels) for ``split`` (train/dev/test); the group taxonomy
    of the same comments, when present, gives the sentiment (ambiguous is skipped)."""
    base = root / "emotion"
    orig = _read_tsv(base / "goemotions-original" / f"{split}.tsv")
    groups = _read_tsv(base / "goemotions-group" / f"{split}.tsv")
    glabels_file = base / "goemotions-group" / "labels.txt"
    glabels = glabels_file.read_text().split() if glabels_file.exists() else []
    out = []
    for i, (text, labs) in enumerate(orig):
        sent = None
        if len(groups) == len(orig) and groups[i][0] == text and glabels:
            names = {glabels[j] for j in groups[i][1]}
            if len(names) == 1:
                sent = GROUP_TO_SENTIMENT.get(next(iter(names)))
        out.append(Example(text, sentiment=sent, emotions=labs, source=f"goemotions-{split}"))
    return out


def _xed_labels(ids: list[int]) -> list[int]:
    names = {XED_TO_GOEMOTIONS.get(i) for i in ids} - {None}
    return sorted(GOEMOTIONS_LABELS.index(n) for n in names if n)


def read_xed(root: Path, name: str, weight: float = 0.3) -> list[Example]:
    """XED: ``en-annotated``, ``fr-projections-train``, ``fr-projections-test`` or
    ``neu_en`` (neutral English lines). Lines left without a mapped label are dropped."""
    base = root / "emotion" / "xed"
    neutral = GOEMOTIONS_LABELS.index("neutral")
    if name == "neu_en":
        path = base / "neu_en.txt"
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t", 1)
            if len(parts) == 2 and parts[1].strip():
                out.append(Example(parts[1], emotions=[neutral], weight=weight, source=name))
        return out
    out = []
    for text, ids in _read_tsv(base / f"{name}.tsv"):
        labs = _xed_labels(ids)
        if labs:
            out.append(
                Example(
                    text,
                    emotions=labs,
                    weight=weight,
                    source=f"xed-{name}",
                    extra={"xed": ",".join(map(str, ids))},
                )
            )
    return out


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines file."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            yield n, json.loads(line)


def read_indomain(path: Path) -> list[Example]:
    """The in-domain development set (JSON lines; ``emotion`` is a group name)."""
    if not path.exists():
        return []
    out = []
    for _, row in _jsonl(path):
        out.append(
            Example(
                row["text"],
                sentiment=SENTIMENTS.index(row["sentiment"]),
                source="indomain",
                extra={
                    "emotion": row["emotion"],
                    "language": row.get("language", ""),
                    "audience": row.get("audience", ""),
                },
            )
        )
    return out


def read_indomain_train(path: Path, weight: float = 1.0) -> list[Example]:
    """Our own in-domain training messages (JSON lines; ``emotions`` lists GoEmotions labels,
    every other label of the 28 is a negative). Disjoint from the development set by
    construction: ``tests/bot/model/test_indomain_train.py`` checks it."""
    if not path.exists():
        raise FileNotFoundError(f"in-domain training set not found: {path}")
    out = []
    for n, row in _jsonl(path):
        unknown = [e for e in row["emotions"] if e not in GOEMOTIONS_LABELS]
        if unknown or not row["emotions"]:
            raise ValueError(
                f"{path}:{n}: emotions must be GoEmotions labels, got {row['emotions']}"
            )
        out.append(
            Example(
                row["text"],
                sentiment=SENTIMENTS.index(row["sentiment"]),
                emotions=sorted(GOEMOTIONS_LABELS.index(e) for e in row["emotions"]),
                weight=weight,
                source="indomain-train",
                extra={"language": row.get("language", ""), "audience": row.get("audience", "")},
            )
        )
    return out
