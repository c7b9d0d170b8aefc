"""Tests of bot/model/data.py on small files in the layouts of ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

from bot.model import data as D
from bot.scoring.groups import GOEMOTIONS_LABELS


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_xlmt(tmp_path: Path) -> None:
    _write(tmp_path / "sentiment/xlmt-fr/val_text.txt", "bien\nnul\n")
    _write(tmp_path / "sentiment/xlmt-fr/val_labels.txt", "2\n0\n")
    rows = D.read_xlmt(tmp_path, "fr", "val")
    assert [(r.text, r.sentiment) for r in rows] == [("bien", 2), ("nul", 0)]
    assert D.read_xlmt(tmp_path, "fr", "test") == []


def test_goemotions_with_group_sentiment(tmp_path: Path) -> None:
    base = tmp_path / "emotion"
    _write(base / "goemotions-original/dev.tsv", "thanks\t15\ta\nhm\t6,27\tb\nugh\t2,17\tc\n")
    _write(base / "goemotions-group/labels.txt", "ambiguous\nnegative\nneutral\npositive\n")
    _write(base / "goemotions-group/dev.tsv", "thanks\t3\ta\nhm\t0,2\tb\nugh\t1,3\tc\n")
    rows = D.read_goemotions(tmp_path, "dev")
    assert rows[0].emotions == [GOEMOTIONS_LABELS.index("gratitude")]
    assert rows[0].sentiment == 2
    assert rows[1].sentiment is None  # two groups (ambiguous + neutral): no sentiment
    assert rows[2].sentiment is None  # mixed negative and positive


def test_xed_mapping_drops_anticipation_and_trust(tmp_path: Path) -> None:
    _write(
        tmp_path / "emotion/xed/fr-projections-train.tsv",
        "Quelle horreur\t3, 4\nOn y va\t2\nJe te crois\t8, 5\n"
        "en/1.xml.gz\tfr/1.xml.gz\t1\t2\tbroken\tligne\n",
    )
    rows = D.read_xed(tmp_path, "fr-projections-train", weight=0.3)
    assert [r.text for r in rows] == ["Quelle horreur", "Je te crois"]
    assert rows[0].emotions == sorted(
        [GOEMOTIONS_LABELS.index("disgust"), GOEMOTIONS_LABELS.index("fear")]
    )
    assert rows[1].emotions == [GOEMOTIONS_LABELS.index("joy")]
    assert rows[0].weight == 0.3


def test_indomain(tmp_path: Path) -> None:
    row = {
        "text": "Merci!",
        "language": "fr",
        "audience": "customer",
        "sentiment": "positive",
        "emotion": "gratitude",
    }
    _write(tmp_path / "d.jsonl", json.dumps(row) + "\n\n")
    rows = D.read_indomain(tmp_path / "d.jsonl")
    assert rows[0].sentiment == 2 and rows[0].extra["emotion"] == "gratitude"


def test_shipped_indomain_set_is_valid() -> None:
    path = Path(__file__).parents[3] / "bench" / "indomain-dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 200
    groups = {
        "anger",
        "frustration",
        "confusion",
        "fear",
        "sadness",
        "disgust",
        "surprise",
        "joy",
        "gratitude",
        "neutral",
    }
    assert {r["emotion"] for r in rows} == groups
    assert {r["language"] for r in rows} == {"fr", "en"}
    assert {r["audience"] for r in rows} == {"customer", "employee"}
    assert {r["sentiment"] for r in rows} == {"negative", "neutral", "positive"}
    assert len({r["text"] for r in rows}) == len(rows)
