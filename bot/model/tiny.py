"""A tiny random model directory in the shipped format, for plumbing tests.

This module owns :func:`write_tiny_model`: it writes ``model.onnx`` (random embedding,
masked mean, two linear outputs: the same ``input_ids, attention_mask ->
sentiment_logits, emotion_logits`` contract as the real graph), a small word-level
``tokenizer.json`` and a ``config.json``, so the runtime and the benchmark can be tested
without the shipped model. Needs the ``onnx`` package (``train`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from bot.scoring.base import SENTIMENT_LABELS
from bot.scoring.groups import GOEMOTIONS_LABELS

TINY_WORDS = (
    "merci",
    "thanks",
    "furieux",
    "angry",
    "colis",
    "package",
    "facture",
    "bill",
    "retard",
    "late",
    "service",
    "super",
    "nul",
    "bad",
    "je",
    "i",
    "suis",
    "am",
    "query:",
)


def write_tiny_model(
    directory: Path,
    *,
    seed: int = 0,
    hidden: int = 8,
    max_length: int = 16,
    version: str = "tiny-test",
) -> Path:
    """Write a random model directory and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for w in TINY_WORDS:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.save(str(directory / "tokenizer.json"))

    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(len(vocab), hidden)).astype(np.float32)
    ws = rng.normal(size=(hidden, 3)).astype(np.float32)
    we = rng.normal(size=(hidden, len(GOEMOTIONS_LABELS))).astype(np.float32)
    inits = [
        numpy_helper.from_array(emb, "emb"),
        numpy_helper.from_array(ws, "ws"),
        numpy_helper.from_array(we, "we"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["tok"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["tok", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1),
        helper.make_node("Max", ["count", "one"], ["count1"]),
        helper.make_node("Div", ["summed", "count1"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "ws"], ["sentiment_logits"]),
        helper.make_node("MatMul", ["pooled", "we"], ["emotion_logits"]),
    ]
    inits.append(numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(
                "attention_mask", TensorProto.INT64, ["batch", "sequence"]
            ),
        ],
        [
            helper.make_tensor_value_info("sentiment_logits", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info(
                "emotion_logits", TensorProto.FLOAT, ["batch", len(GOEMOTIONS_LABELS)]
            ),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / "model.onnx"))
    config = {
        "version": version,
        "base_model": "random (tests)",
        "sentiment_labels": list(SENTIMENT_LABELS),
        "emotion_labels": list(GOEMOTIONS_LABELS),
        "max_length": max_length,
        "prefix": "query: ",
        "pad_id": 1,
        "temperatures": {"sentiment": 1.5, "emotion": 2.0},
        "thresholds": {label: 0.5 for label in GOEMOTIONS_LABELS},
        "group_pooling": "noisy_or",
    }
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return directory
