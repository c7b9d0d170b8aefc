"""Tests of bot/cli/model.py and bot/model/evaluate.py on a tiny model and tiny data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from bot.cli import model as cli
from bot.model import evaluate
from bot.model.evaluate import emotion_f1, split_half
from bot.model.metrics import tune_thresholds

pytest.importorskip("onnx")

from bot.model.tiny import write_tiny_model


def _data(root: Path) -> Path:
    def w(rel: str, text: str) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")

    for lang in ("fr", "en"):
        w(f"sentiment/xlmt-{lang}/val_text.txt", "merci super\nnul retard\ncolis\n")
        w(f"sentiment/xlmt-{lang}/val_labels.txt", "2\n0\n1\n")
    w("emotion/goemotions-original/dev.tsv", "thanks\t15\ta\nangry\t2\tb\nbill\t27\tc\n")
    w("emotion/xed/fr-projections-test.tsv", "je suis furieux\t1\nsuper\t5, 8\n")
    return root


def test_register_adds_model_train_and_eval() -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["model", "eval", "--data", "d", "--json"])
    assert args.func is cli._eval and args.json
    args = parser.parse_args(["model", "train", "--data", "d", "--out", "o", "--config", "c.yml"])
    assert args.func is cli._train and args.config == "c.yml"


def test_eval_reports_every_set_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = write_tiny_model(tmp_path / "m")
    data = _data(tmp_path / "data")
    indomain = tmp_path / "in.jsonl"
    indomain.write_text(
        json.dumps(
            {
                "text": "merci",
                "language": "fr",
                "audience": "customer",
                "sentiment": "positive",
                "emotion": "gratitude",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    rc = cli.main(
        ["eval", "--data", str(data), "--model", str(model), "--indomain", str(indomain), "--json"]
    )
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) == {
        "xlmt-fr-val",
        "xlmt-en-val",
        "goemotions-dev",
        "xed-fr-projections-test",
        "indomain-dev",
        "corpus-dev",
        "corpus-test",
        "runtime",
    }
    assert res["xlmt-fr-val"]["n"] == 3
    for split in ("corpus-dev", "corpus-test"):
        for language in ("fr", "en"):
            scores = res[split][language]
            assert scores["n"] > 0 and 0.0 <= scores["sentiment_macro_f1"] <= 1.0
            assert 0.0 <= scores["flips"] <= 1.0 and 0.0 <= scores["group_top1"] <= 1.0
    assert 0.0 <= res["goemotions-dev"]["macro_f1_28"] <= 1.0
    assert "macro_f1_ekman7" in res["goemotions-dev"]
    assert "split_half_f1_28" not in res["goemotions-dev"]  # 3 rows: no halves worth tuning on
    assert res["xed-fr-projections-test"]["split"] == "test"
    assert res["runtime"]["p50_ms"] > 0 and res["runtime"]["load_s"] > 0
    assert evaluate.headline(res) >= 0.0


def test_eval_on_missing_model_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _data(tmp_path / "data")
    rc = cli.main(["eval", "--data", str(data), "--model", str(tmp_path / "none")])
    assert rc == 1
    assert "not found" in capsys.readouterr().err


def test_make_train_model_retrains_the_shipped_model_from_its_committed_config() -> None:
    import shutil
    import subprocess

    from bot.model.train import TrainConfig

    root = Path(__file__).parents[3]
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "-n", "train-model"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "--config bench/model_config.yml" in dry
    cfg = TrainConfig.load(root / "bench" / "model_config.yml")
    shipped = json.loads((root / "models" / "emotion" / "config.json").read_text(encoding="utf-8"))
    assert cfg.version == shipped["version"]
    assert cfg.threshold_family_weight == shipped["threshold_family_weight"]
    assert cfg.max_length == shipped["max_length"] and cfg.prefix == shipped["prefix"]
    assert (root / cfg.indomain_train).is_file()


def test_split_half_sees_through_thresholds_fitted_to_noise() -> None:
    rng = np.random.default_rng(1)
    gold = rng.random((600, 28)) < 0.08
    noise = rng.random((600, 28))
    # thresholds tuned on the very rows they are scored on find structure in pure noise
    in_sample = emotion_f1(gold, noise >= tune_thresholds(gold, noise))[0]
    h28, _ = split_half(gold, noise, family_weight=0.0)
    assert h28 < in_sample - 0.01
    # a model that knows the labels loses nothing on unseen rows
    probs = np.where(gold, 0.7, 0.2) + 0.05 * rng.random((600, 28))
    s28, s7 = split_half(gold, probs, family_weight=0.5)
    assert s28 == pytest.approx(1.0) and s7 == pytest.approx(1.0)
