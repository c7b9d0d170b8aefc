"""Frozen-encoder feature extraction and its on-disk cache (outside the repository).

This module owns the one expensive pass over the data: each text is tokenized (with the
model's prefix, truncated to ``max_length``), run through the frozen encoder once, and
two things are kept per text — the mean-pooled state of every layer (fp16) and the token
states of layer ``cache_layer`` (fp16), from which the top layers are fine-tuned.
Needs the ``train`` extra.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bot.model.convert import mean_pool


@dataclass
class Features:
    """Cached encoder outputs for a list of texts (same order as the texts).

    Attributes:
        pooled: ``[n, layers + 1, hidden]`` mean-pooled hidden states (fp16).
        tokens: ``[total_tokens, hidden]`` token states of the cached layer (fp16).
        offsets: ``[n + 1]`` start of each text's tokens in ``tokens``.
    """

    pooled: np.ndarray
    tokens: np.ndarray
    offsets: np.ndarray

    def save(self, path: Path) -> None:
        """Write to ``path`` (an ``.npz`` file, uncompressed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, pooled=self.pooled, tokens=self.tokens, offsets=self.offsets)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Features:
        """Read a file written by :meth:`save`."""
        z = np.load(path)
        return cls(z["pooled"], z["tokens"], z["offsets"])


def encode(tokenizer: Any, texts: Sequence[str], prefix: str, max_length: int) -> list[list[int]]:
    """Token ids (with ``<s>``/``</s>``) truncated to ``max_length`` (keeping ``</s>``)."""
    encs = tokenizer.encode_batch([prefix + t for t in texts])
    out = []
    for e in encs:
        ids = list(e.ids)
        if len(ids) > max_length:
            ids = [*ids[: max_length - 1], ids[-1]]
        out.append(ids)
    return out


def extract(
    bert: Any,
    ids: list[list[int]],
    cache_layer: int,
    batch_size: int = 64,
    label: str = "",
    stop_at_cache: bool = False,
) -> Features:
    """Run the frozen encoder over ``ids`` (sorted by length for batching).

    With ``stop_at_cache`` only the first ``cache_layer`` layers run (the layers above are
    fine-tuned, so their frozen states are never used): pooled states past the cached
    layer are left at zero and the pass costs ``cache_layer / 12`` of a full one.
    """
    n = len(ids)
    order = sorted(range(n), key=lambda i: len(ids[i]))
    hidden = bert.config.hidden_size
    nlayers = bert.config.num_hidden_layers + 1
    pooled = np.zeros((n, nlayers, hidden), dtype=np.float16)
    tok_states: list[np.ndarray | None] = [None] * n
    start = time.time()
    all_layers = bert.encoder.layer
    if stop_at_cache:
        bert.encoder.layer = all_layers[:cache_layer]
    try:
        with torch.inference_mode():
            for b0 in range(0, n, batch_size):
                idx = order[b0 : b0 + batch_size]
                length = max(len(ids[i]) for i in idx)
                x = torch.full((len(idx), length), 1, dtype=torch.long)
                m = torch.zeros((len(idx), length), dtype=torch.long)
                for r, i in enumerate(idx):
                    x[r, : len(ids[i])] = torch.tensor(ids[i])
                    m[r, : len(ids[i])] = 1
                out = bert(input_ids=x, attention_mask=m, output_hidden_states=True)
                hs = out.hidden_states
                stacked = torch.stack([mean_pool(h, m) for h in hs], dim=1)
                pooled[idx, : stacked.shape[1]] = stacked.numpy().astype(np.float16)
                cached = hs[cache_layer].numpy().astype(np.float16)
                for r, i in enumerate(idx):
                    tok_states[i] = cached[r, : len(ids[i])]
                done = b0 + len(idx)
                if (b0 // batch_size) % 20 == 0 or done == n:
                    rate = done / max(time.time() - start, 1e-6)
                    print(
                        f"  [{label}] {done}/{n} texts, {rate:.0f}/s, eta {(n - done) / rate:.0f}s",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        bert.encoder.layer = all_layers
    lens = np.array([len(t) for t in ids], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    tokens = np.concatenate([t for t in tok_states if t is not None], axis=0)
    return Features(pooled, tokens, offsets)
