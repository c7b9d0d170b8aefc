"""Classification metrics and calibration for the emotion model (numpy only).

This module owns macro-F1 (single- and multi-label), per-label threshold tuning and
temperature fitting, so that training, export and ``vecu model eval`` compute them the
same way. It has no torch dependency: the runtime environment can use it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def macro_f1(gold: ArrayLike, pred: ArrayLike, n_classes: int) -> float:
    """Macro-averaged F1 over ``n_classes`` single-label classes (absent classes count 0
    only if predicted; classes neither in gold nor predicted are skipped)."""
    g = np.asarray(gold)
    p = np.asarray(pred)
    scores = []
    for c in range(n_classes):
        tp = int(np.sum((g == c) & (p == c)))
        fp = int(np.sum((g != c) & (p == c)))
        fn = int(np.sum((g == c) & (p != c)))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def multilabel_f1(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-label F1 of boolean ``[n, labels]`` matrices (0 when a label has no support
    and no prediction)."""
    g = gold.astype(bool)
    p = pred.astype(bool)
    tp = (g & p).sum(0).astype(float)
    fp = (~g & p).sum(0).astype(float)
    fn = (g & ~p).sum(0).astype(float)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-9), 0.0)


def tune_thresholds(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The per-label threshold that maximises F1 on a validation set."""
    grid = np.round(np.arange(0.02, 0.91, 0.01), 2)
    best = np.full(gold.shape[1], 0.5)
    best_f1 = np.full(gold.shape[1], -1.0)
    for th in grid:
        f1 = multilabel_f1(gold, probs >= th)
        better = f1 > best_f1
        best[better] = th
        best_f1[better] = f1[better]
    return best


def tune_thresholds_grouped(
    gold: np.ndarray, probs: np.ndarray, groups: np.ndarray, group_weight: float, rounds: int = 1
) -> np.ndarray:
    """Per-label thresholds that maximise ``(1 - w) * label F1 + w * group F1``.

    ``groups`` is a boolean ``[labels, groups]`` membership matrix; a group is predicted
    when any of its labels is. Starting from :func:`tune_thresholds`, each label's
    threshold is moved in turn (coordinate ascent, ``rounds`` passes): a label that
    shares its group with others can then be made stricter when the group is already
    found by a sibling, which per-label tuning cannot see.
    """
    th = tune_thresholds(gold, probs)
    if group_weight <= 0:
        return th
    grid = np.round(np.arange(0.02, 0.91, 0.01), 2)
    member = groups.astype(int)
    gold_g = (gold.astype(int) @ member) > 0

    def objective(pred: np.ndarray) -> float:
        label = float(multilabel_f1(gold, pred).mean())
        group = float(multilabel_f1(gold_g, (pred.astype(int) @ member) > 0).mean())
        return (1 - group_weight) * label + group_weight * group

    for _ in range(rounds):
        for j in range(gold.shape[1]):
            pred = probs >= th
            best, best_t = objective(pred), th[j]
            for t in grid:
                pred[:, j] = probs[:, j] >= t
                value = objective(pred)
                if value > best + 1e-12:
                    best, best_t = value, t
            th[j] = best_t
    return th


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_temperature_softmax(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood (grid search)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 120))
    nll = [-np.mean(np.log(softmax(logits / t)[np.arange(len(gold)), gold] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(nll))])


def fit_temperature_sigmoid(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising binary cross-entropy over all labels (grid search)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 120))
    g = gold.astype(float)
    losses = []
    for t in grid:
        p = np.clip(sigmoid(logits / t), 1e-7, 1 - 1e-7)
        losses.append(-np.mean(g * np.log(p) + (1 - g) * np.log(1 - p)))
    return float(grid[int(np.argmin(losses))])
