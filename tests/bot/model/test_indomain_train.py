"""Our own in-domain training set (bench/indomain-train.jsonl): valid labels, both languages
and audiences, every product group, and no overlap with what we report or test on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bot.model import data as D
from bot.model.train import TrainConfig, make_table, training_sets
from bot.scoring.groups import DEFAULT_GROUPS, GOEMOTIONS_LABELS

ROOT = Path(__file__).parents[3]
TRAIN = ROOT / "bench" / "indomain-train.jsonl"
DEV = ROOT / "bench" / "indomain-dev.jsonl"
FIXTURES = ROOT / "tests" / "bot" / "scoring" / "test_shipped_model.py"
# word-set Jaccard above which two messages count as the same message reworded
NEAR = 0.3


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _jaccard(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb)


@pytest.fixture(scope="module")
def rows() -> list[D.Example]:
    return D.read_indomain_train(TRAIN)


def test_every_row_is_a_labelled_message(rows: list[D.Example]) -> None:
    assert len(rows) >= 150
    for r in rows:
        assert r.text.strip() and r.sentiment in (0, 1, 2)
        assert r.emotions and all(0 <= j < 28 for j in r.emotions)
        assert r.extra["language"] in ("fr", "en")
        assert r.extra["audience"] in ("customer", "employee")


def test_covers_every_product_group_in_both_languages(rows: list[D.Example]) -> None:
    group_of = {lab: g for g, labs in DEFAULT_GROUPS.items() for lab in labs}
    for lang in ("fr", "en"):
        seen = {
            group_of[GOEMOTIONS_LABELS[j]]
            for r in rows
            if r.extra["language"] == lang
            for j in r.emotions or []
        }
        assert seen == set(DEFAULT_GROUPS), (lang, set(DEFAULT_GROUPS) - seen)
    audiences = {r.extra["audience"] for r in rows}
    assert audiences == {"customer", "employee"}


def test_no_message_of_the_dev_set_or_the_model_fixtures_reworded(rows: list[D.Example]) -> None:
    dev = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines()]
    fixtures = re.findall(r'"([^"]{12,})"', FIXTURES.read_text(encoding="utf-8"))
    assert len(dev) >= 200 and len(fixtures) >= 10
    close = [
        (r.text, other) for r in rows for other in dev + fixtures if _jaccard(r.text, other) > NEAR
    ]
    assert not close, close[:5]


def test_jaccard_flags_a_reworded_message() -> None:
    # the check above must be able to fail: a light rewording is caught
    reworded = ("Rien de spécial à signaler cette semaine.", "Rien de spécial à signaler.")
    assert _jaccard(*reworded) > NEAR
    assert _jaccard("Merci pour tout", "Le colis est en retard") <= NEAR


def test_unknown_label_or_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "train.jsonl"
    bad.write_text(
        json.dumps({"text": "x", "sentiment": "neutral", "emotions": ["boredom"]}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"train\.jsonl:1: .*GoEmotions labels"):
        D.read_indomain_train(bad)
    with pytest.raises(FileNotFoundError, match="in-domain training set not found"):
        D.read_indomain_train(tmp_path / "missing.jsonl")


def test_training_supervises_all_28_labels_and_sentiment(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        json.dumps({"text": "Je suis perdu", "sentiment": "negative", "emotions": ["confusion"]})
        + "\n",
        encoding="utf-8",
    )
    cfg = TrainConfig(indomain_train=str(path), indomain_train_weight=0.7)
    sets = training_sets(tmp_path, cfg)  # no public data here: only our set has rows
    assert [r.text for r in sets["indomain-train"]] == ["Je suis perdu"]
    table = make_table("indomain-train", sets["indomain-train"], cfg)
    assert table.sentiment[0] == 0 and table.sent_weight[0] == 1.0
    assert np.array_equal(table.emo_mask[0], np.ones(28, dtype=np.float32))
    assert table.emotions[0].sum() == 1.0
    assert table.emotions[0, GOEMOTIONS_LABELS.index("confusion")] == 1.0
    assert table.emo_weight[0] == pytest.approx(0.7)
    assert "indomain-train" not in training_sets(tmp_path, TrainConfig())
