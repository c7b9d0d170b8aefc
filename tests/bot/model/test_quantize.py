"""Tests of bot.model.train.quantize: both int8 modes on a tiny model, against its fp32 graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnx_ir")
pytest.importorskip("torch")  # bot.model.train's package needs the train extra

import onnx
import onnxruntime as ort

from bot.model.tiny import write_tiny_model
from bot.model.train import quantize

IDS = np.array([[0, 4, 5, 6, 2, 1], [0, 7, 8, 9, 10, 2]], dtype=np.int64)
MASK = (IDS != 1).astype(np.int64)


def _run(path: Path) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": IDS, "attention_mask": MASK})


@pytest.fixture(scope="module")
def fp32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 256 hidden units: two blocks of 128 along the reduced axis, as in the real model
    return write_tiny_model(tmp_path_factory.mktemp("tiny"), hidden=256) / "model.onnx"


@pytest.mark.parametrize("mode", ["dynamic", "nbits8"])
def test_int8_graph_keeps_the_fp32_outputs(fp32: Path, tmp_path: Path, mode: str) -> None:
    dst = tmp_path / f"{mode}.onnx"
    quantize(fp32, dst, mode)
    ref, out = _run(fp32), _run(dst)
    for r, o in zip(ref, out, strict=True):
        assert o.shape == r.shape
        # a few hundredths of the logits' spread, not a different model
        assert np.abs(o - r).max() < 0.05 * np.abs(r).max()
    assert dst.stat().st_size < fp32.stat().st_size / 2
    ops = {n.op_type for n in onnx.load(str(dst)).graph.node}
    if mode == "nbits8":
        assert "MatMulNBits" in ops and "MatMul" not in ops
    else:
        assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops
    assert not (tmp_path / f"{mode}.gather.onnx").exists()


def test_unknown_mode_is_refused(fp32: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quantize_mode"):
        quantize(fp32, tmp_path / "x.onnx", "int4")
