"""The shipped scorer: Vécu's ONNX emotion/sentiment model run with onnxruntime.

This module owns :class:`OnnxScorer`, which reads a model directory (``model.onnx``,
``tokenizer.json``, ``config.json``; see ``models/emotion/card.md``), tokenizes texts with
the model's prefix and truncation, runs the ONNX graph one text at a time, applies the calibrated
temperatures and returns :class:`~bot.scoring.base.Scores` with emotion *groups*.
A group's probability is ``1 - prod(1 - p_i)`` over its labels' calibrated probabilities
(noisy-OR: the chance that at least one of its emotions is present). Nothing is loaded
at import or construction time: the model is loaded once, on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ScoringError
from bot.scoring.base import SENTIMENT_LABELS, Scores
from bot.scoring.groups import validate_groups

REQUIRED_FILES = ("model.onnx", "tokenizer.json", "config.json")
MAX_CHARS = 4000  # longer texts are cut before tokenizing (the model reads max_length tokens)


@dataclass(frozen=True)
class ModelConfig:
    """The parsed ``config.json`` of a model directory."""

    version: str
    sentiment_labels: tuple[str, ...]
    emotion_labels: tuple[str, ...]
    max_length: int
    prefix: str
    pad_id: int
    sentiment_temperature: float
    emotion_temperature: float
    thresholds: Mapping[str, float]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelConfig:
        """Validate and build; raises :class:`ScoringError` with the missing key."""
        try:
            temps = raw.get("temperatures", {})
            cfg = cls(
                version=str(raw["version"]),
                sentiment_labels=tuple(raw["sentiment_labels"]),
                emotion_labels=tuple(raw["emotion_labels"]),
                max_length=int(raw["max_length"]),
                prefix=str(raw.get("prefix", "")),
                pad_id=int(raw.get("pad_id", 1)),
                sentiment_temperature=float(temps.get("sentiment", 1.0)),
                emotion_temperature=float(temps.get("emotion", 1.0)),
                thresholds=dict(raw.get("thresholds", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScoringError(f"model config.json is malformed: {exc!r}") from exc
        if cfg.max_length < 3 or cfg.sentiment_temperature <= 0 or cfg.emotion_temperature <= 0:
            raise ScoringError("model config.json has an invalid max_length or temperature")
        if tuple(cfg.sentiment_labels) != SENTIMENT_LABELS:
            raise ScoringError(
                f"model sentiment labels {cfg.sentiment_labels} differ from {SENTIMENT_LABELS}"
            )
        return cfg


@dataclass
class _Loaded:
    config: ModelConfig
    tokenizer: Any
    session: Any
    group_index: list[tuple[str, list[int]]]


class OnnxScorer:
    """Scores texts with the ONNX model of ``model_dir`` (implements ``Scorer``).

    Args:
        model_dir: directory holding ``model.onnx``, ``tokenizer.json``, ``config.json``.
        groups: emotion group -> GoEmotions labels (the company configuration's groups).
        threads: onnxruntime intra-op threads (one by default).
    """

    def __init__(
        self, model_dir: Path, groups: Mapping[str, Sequence[str]], *, threads: int = 1
    ) -> None:
        self._dir = Path(model_dir)
        try:
            validate_groups(groups)
        except ValueError as exc:
            raise ScoringError(str(exc)) from exc
        self._groups = {name: tuple(labels) for name, labels in groups.items()}
        self._threads = max(1, int(threads))
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------

    def _load(self) -> _Loaded:
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load_now()
        return self._loaded

    def _load_now(self) -> _Loaded:
        if not self._dir.is_dir():
            raise ScoringError(f"emotion model directory not found: {self._dir}")
        missing = [f for f in REQUIRED_FILES if not (self._dir / f).is_file()]
        if missing:
            raise ScoringError(f"emotion model directory {self._dir} lacks {', '.join(missing)}")
        try:
            raw = json.loads((self._dir / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScoringError(f"cannot read {self._dir / 'config.json'}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ScoringError("model config.json is not a JSON object")
        config = ModelConfig.from_dict(raw)
        index = {label: i for i, label in enumerate(config.emotion_labels)}
        group_index = []
        for name, labels in self._groups.items():
            absent = [label for label in labels if label not in index]
            if absent:
                raise ScoringError(f"emotion group {name!r} uses labels the model lacks: {absent}")
            group_index.append((name, [index[label] for label in labels]))
        try:
            import onnxruntime as ort  # noqa: PLC0415 (the model runtime loads at first use)
            from tokenizers import Tokenizer  # noqa: PLC0415 (the model runtime loads at first use)

            tokenizer = Tokenizer.from_file(str(self._dir / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(self._dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime/tokenizers raise their own types
            raise ScoringError(f"cannot load the emotion model in {self._dir}: {exc}") from exc
        outputs = {o.name: o.shape for o in session.get_outputs()}
        if "sentiment_logits" not in outputs or "emotion_logits" not in outputs:
            raise ScoringError("model.onnx lacks sentiment_logits/emotion_logits outputs")
        return _Loaded(config, tokenizer, session, group_index)

    def load(self) -> None:
        """Load now (otherwise the first :meth:`score` does)."""
        self._load()

    # -- Scorer ------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The model version (from ``config.json``; loads the model)."""
        return self._load().config.version

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``input_ids`` and ``attention_mask`` for ``texts`` (truncated)."""
        m = self._load()
        cfg = m.config
        prepared = [cfg.prefix + _clean(t) for t in texts]
        encs = m.tokenizer.encode_batch(prepared)
        rows = []
        for e in encs:
            ids = list(e.ids)
            if len(ids) > cfg.max_length:
                ids = [*ids[: cfg.max_length - 1], ids[-1]]
            rows.append(ids)
        length = max((len(r) for r in rows), default=1)
        input_ids = np.full((len(rows), length), cfg.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for i, r in enumerate(rows):
            input_ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return input_ids, mask

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw (uncalibrated) sentiment and emotion logits, one row per text.

        Each text runs alone: an int8 graph quantizes activations at run time (version 1: one
        scale per run; 2.0: per block of each token row), so inside a padded batch a message's
        scores could depend on its neighbours. Alone, a message always gets the score it gets
        in the chat.
        """
        m = self._load()
        if not texts:
            return np.zeros((0, 3), np.float32), np.zeros((0, len(m.config.emotion_labels)))
        sents, emos = [], []
        for text in texts:
            input_ids, mask = self.encode([text])
            try:
                sent, emo = m.session.run(
                    ["sentiment_logits", "emotion_logits"],
                    {"input_ids": input_ids, "attention_mask": mask},
                )
            except Exception as exc:
                raise ScoringError(f"the emotion model failed to run: {exc}") from exc
            sents.append(sent[0])
            emos.append(emo[0])
        return np.asarray(sents, dtype=np.float64), np.asarray(emos, dtype=np.float64)

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated sentiment (softmax) and per-label emotion (sigmoid) probabilities."""
        cfg = self._load().config
        sent, emo = self.logits(texts)
        s = sent / cfg.sentiment_temperature
        s = np.exp(s - s.max(axis=1, keepdims=True)) if len(s) else s
        s = s / s.sum(axis=1, keepdims=True) if len(s) else s
        e = 1.0 / (1.0 + np.exp(-emo / cfg.emotion_temperature))
        return s, e

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        """Score ``texts``, each on its own (see :class:`~bot.scoring.base.Scorer`)."""
        texts = list(texts)
        if not texts:
            return []
        m = self._load()
        cfg = m.config
        sent, emo = self.probabilities(texts)
        out = []
        for i in range(len(texts)):
            sentiment = {lab: float(sent[i, j]) for j, lab in enumerate(cfg.sentiment_labels)}
            groups = {name: float(1.0 - np.prod(1.0 - emo[i, idx])) for name, idx in m.group_index}
            raw_emotions = (
                {lab: float(emo[i, j]) for j, lab in enumerate(cfg.emotion_labels)} if raw else None
            )
            out.append(Scores(sentiment, groups, cfg.version, raw_emotions))
        return out


def _clean(text: str) -> str:
    """Bound the text and drop control characters (the model never sees them usefully)."""
    text = text[:MAX_CHARS]
    return "".join(ch if ch.isprintable() or ch in " \n\t" else " " for ch in text)
