"""Tests of bot/model/nlu_features.py: the shipped graph with its inner features as outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.model.nlu_features import FEATURES, export_feature_graph, main
from bot.scoring.groups import DEFAULT_GROUPS
from bot.scoring.onnx import OnnxScorer
from bot.settings import ROOT

MODEL = ROOT / "models" / "emotion"


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e5")
    export_feature_graph(MODEL, out)
    return out


def test_the_copy_keeps_the_models_outputs_and_adds_the_features(graph_dir: Path) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(graph_dir / "features.onnx"))
    names = [o.name for o in session.get_outputs()]
    assert names == ["sentiment_logits", "emotion_logits", *FEATURES]
    assert json.loads((graph_dir / "features.json").read_text())["features"] == list(FEATURES)
    assert (graph_dir / "tokenizer.json").read_bytes() == (MODEL / "tokenizer.json").read_bytes()

    # Same weights: the copy's logits are the shipped model's, to the last bit.
    scorer = OnnxScorer(MODEL, DEFAULT_GROUPS)
    ids, mask = scorer.encode(["ma facture est encore fausse"])
    sentiment, emotion, *features = session.run(None, {"input_ids": ids, "attention_mask": mask})
    shipped_sentiment, shipped_emotion = scorer.logits(["ma facture est encore fausse"])
    assert np.allclose(sentiment[0], shipped_sentiment[0], atol=1e-6)
    assert np.allclose(emotion[0], shipped_emotion[0], atol=1e-6)
    assert [f.shape[1] for f in features] == [384, 256, 256]


def test_a_graph_without_the_tensors_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    node = helper.make_node("Identity", ["x"], ["y"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    (tmp_path / "m").mkdir()
    onnx.save(
        helper.make_model(helper.make_graph([node], "g", [x], [y])),
        str(tmp_path / "m" / "model.onnx"),
    )
    with pytest.raises(ValueError, match="update FEATURES"):
        export_feature_graph(tmp_path / "m", tmp_path / "out")
    assert main(["only-one"]) == 2
