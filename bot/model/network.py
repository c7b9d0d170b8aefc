"""The emotion network: e5 encoder, multi-layer mean pooling and the two heads.

This module owns the torch modules that are trained and exported: :class:`Heads` (the
shared MLP and the sentiment/emotion outputs over pooled layer states), :class:`TopModel`
(the top encoder layers + heads, trained on cached lower-layer states) and
:class:`EmotionModel` (the whole graph exported to ONNX:
``input_ids, attention_mask -> sentiment_logits, emotion_logits``).
Needs the ``train`` extra.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bot.model.convert import mean_pool


class Heads(nn.Module):
    """Sentiment (3, softmax) and emotion (28, sigmoid) outputs over the pooled states,
    through one shared hidden layer or (``separate``) one hidden layer per head."""

    def __init__(
        self,
        in_dim: int,
        hidden: int,
        dropout: float,
        n_emotions: int = 28,
        separate: bool = False,
    ) -> None:
        super().__init__()
        self.separate = separate
        self.drop = nn.Dropout(dropout)
        self.act = nn.GELU()
        if separate:
            self.proj_s = nn.Linear(in_dim, hidden)
            self.proj_e = nn.Linear(in_dim, hidden)
        else:
            self.proj = nn.Linear(in_dim, hidden)
        self.sentiment = nn.Linear(hidden, 3)
        self.emotion = nn.Linear(hidden, n_emotions)

    def forward(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.drop(pooled)
        if self.separate:
            hs = self.drop(self.act(self.proj_s(x)))
            he = self.drop(self.act(self.proj_e(x)))
            return self.sentiment(hs), self.emotion(he)
        h = self.drop(self.act(self.proj(x)))
        return self.sentiment(h), self.emotion(h)


def _ext_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    m = mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


class TopModel(nn.Module):
    """The trainable top of the network, fed with cached states of layer ``start``.

    Pools (mean under the mask) the input state and the output of every top layer, then
    applies the heads. With no top layer it is a frozen-feature classifier.
    """

    def __init__(self, layers: list[Any], heads: Heads) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.heads = heads

    def forward(
        self, states: torch.Tensor, mask: torch.Tensor, pooled_low: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pools = [pooled_low, mean_pool(states, mask)]
        ext = _ext_mask(mask, states.dtype)
        h = states
        for layer in self.layers:
            out = layer(h, attention_mask=ext)
            h = out[0] if isinstance(out, tuple) else out
            pools.append(mean_pool(h, mask))
        return self.heads(torch.cat(pools, dim=-1))


class EmotionModel(nn.Module):
    """The exported graph: full encoder, same pooling as :class:`TopModel`, heads.

    ``low_layers`` are the hidden-state indices (0 = embeddings) pooled before the cached
    layer ``start``; the pooled vector is ``[low pools..., start, start+1, ..., last]``.
    """

    def __init__(self, bert: Any, top: TopModel, start: int, low_layers: list[int]) -> None:
        super().__init__()
        self.embeddings = bert.embeddings
        self.layers = nn.ModuleList(list(bert.encoder.layer[:start]) + list(top.layers))
        self.start = start
        self.low_layers = low_layers
        self.heads = top.heads

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        ext = _ext_mask(attention_mask, h.dtype)
        pools_low: list[torch.Tensor] = []
        pools_top: list[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            if i in self.low_layers:
                pools_low.append(mean_pool(h, attention_mask))
            if i >= self.start:
                pools_top.append(mean_pool(h, attention_mask))
            out = layer(h, attention_mask=ext)
            h = out[0] if isinstance(out, tuple) else out
        pools_top.append(mean_pool(h, attention_mask))
        low = torch.cat(pools_low, dim=-1) if pools_low else h.new_zeros((h.shape[0], 0))
        return self.heads(torch.cat([low, *pools_top], dim=-1))
