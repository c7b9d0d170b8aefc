"""Plumbing tests of bot/scoring/onnx.py on a tiny random model in the shipped format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ScoringError
from bot.scoring import DEFAULT_GROUPS, GOEMOTIONS_LABELS, OnnxScorer, Scorer, Scores

pytest.importorskip("onnx")

from bot.model.tiny import write_tiny_model


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "tiny", max_length=16)


@pytest.fixture
def scorer(tiny_dir: Path) -> OnnxScorer:
    return OnnxScorer(tiny_dir, DEFAULT_GROUPS)


def test_implements_the_scorer_protocol(scorer: OnnxScorer) -> None:
    assert isinstance(scorer, Scorer)
    assert scorer.version == "tiny-test"


def test_one_scores_per_text_in_order(scorer: OnnxScorer) -> None:
    texts = ["merci super service", "je suis furieux", "colis retard"]
    out = scorer.score(texts)
    assert len(out) == 3
    assert all(isinstance(s, Scores) for s in out)
    singles = [scorer.score([t])[0] for t in texts]
    for batched, single in zip(out, singles, strict=True):
        for k in batched.sentiment:  # padding must not change a text's scores
            assert batched.sentiment[k] == pytest.approx(single.sentiment[k], abs=1e-5)
        for k in batched.emotions:
            assert batched.emotions[k] == pytest.approx(single.emotions[k], abs=1e-5)


def test_sentiment_is_a_distribution_and_groups_follow_configuration(scorer: OnnxScorer) -> None:
    groups = {"gratitude": ["gratitude"], "anger": ["anger", "annoyance"]}
    s = OnnxScorer(scorer._dir, groups).score(["merci"])[0]
    assert list(s.sentiment) == ["negative", "neutral", "positive"]
    assert sum(s.sentiment.values()) == pytest.approx(1.0)
    assert list(s.emotions) == ["gratitude", "anger"]
    assert s.raw_emotions is None


def test_group_probability_is_noisy_or_of_calibrated_labels(scorer: OnnxScorer) -> None:
    s = scorer.score(["bill late"], raw=True)[0]
    assert s.raw_emotions is not None
    assert list(s.raw_emotions) == list(GOEMOTIONS_LABELS)
    for group, labels in DEFAULT_GROUPS.items():
        expected = 1 - math.prod(1 - s.raw_emotions[label] for label in labels)
        assert s.emotions[group] == pytest.approx(expected)


def test_temperatures_are_applied(scorer: OnnxScorer, tiny_dir: Path) -> None:
    sent, emo = scorer.logits(["merci"])
    s = scorer.score(["merci"], raw=True)[0]
    z = sent[0] / 1.5  # the tiny config's sentiment temperature
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert s.sentiment["positive"] == pytest.approx(expected[2])
    assert s.raw_emotions is not None
    assert s.raw_emotions["anger"] == pytest.approx(1 / (1 + math.exp(-emo[0][2] / 2.0)))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😡😡😡",
        "x" * 10_000,
        "mot " * 3_000,
        "a\x00b\x07c",
        "<script>alert(1)</script>",
        "'; DROP TABLE feedback; --",
        "这是中文",
    ],
)
def test_bad_input_is_scored_without_crashing(scorer: OnnxScorer, text: str) -> None:
    s = scorer.score([text])[0]
    assert sum(s.sentiment.values()) == pytest.approx(1.0)
    assert all(0.0 <= v <= 1.0 for v in s.emotions.values())


def test_long_text_is_truncated_to_max_length(scorer: OnnxScorer) -> None:
    ids, mask = scorer.encode(["merci " * 500, "merci"])
    assert ids.shape == (2, 16)
    assert ids[0, -1] == 2  # </s> kept at the end of a truncated text
    assert mask[1].sum() < 16


def test_empty_batch_gives_empty_list(scorer: OnnxScorer) -> None:
    assert scorer.score([]) == []


def test_loads_lazily_and_once(tiny_dir: Path) -> None:
    s = OnnxScorer(tiny_dir, DEFAULT_GROUPS, threads=1)
    assert s._loaded is None
    s.score(["merci"])
    first = s._loaded
    s.score(["thanks"])
    assert s._loaded is first


def test_missing_directory_raises_scoring_error_on_use(tmp_path: Path) -> None:
    s = OnnxScorer(tmp_path / "nowhere", DEFAULT_GROUPS)  # construction loads nothing
    with pytest.raises(ScoringError, match="not found"):
        s.score(["hello"])


@pytest.mark.parametrize("missing", ["model.onnx", "tokenizer.json", "config.json"])
def test_missing_file_raises_scoring_error(tiny_dir: Path, missing: str) -> None:
    (tiny_dir / missing).unlink()
    with pytest.raises(ScoringError, match=missing):
        OnnxScorer(tiny_dir, DEFAULT_GROUPS).load()


def test_malformed_config_raises_scoring_error(tiny_dir: Path) -> None:
    (tiny_dir / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ScoringError, match=r"config\.json"):
        OnnxScorer(tiny_dir, DEFAULT_GROUPS).load()
    (tiny_dir / "config.json").write_text(json.dumps({"version": "x"}), encoding="utf-8")
    with pytest.raises(ScoringError, match="malformed"):
        OnnxScorer(tiny_dir, DEFAULT_GROUPS).load()


def test_corrupt_onnx_raises_scoring_error(tiny_dir: Path) -> None:
    (tiny_dir / "model.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(ScoringError, match="cannot load"):
        OnnxScorer(tiny_dir, DEFAULT_GROUPS).load()


def test_unknown_group_label_is_rejected(tiny_dir: Path) -> None:
    with pytest.raises(ScoringError, match="unknown labels"):
        OnnxScorer(tiny_dir, {"rage": ["fury"]})
