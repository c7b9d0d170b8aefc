"""Tests of bot/model/metrics.py."""

from __future__ import annotations

import numpy as np
import pytest

from bot.model import metrics as M


def test_macro_f1_single_label() -> None:
    assert M.macro_f1([0, 1, 2], [0, 1, 2], 3) == 1.0
    # class 0: tp1 fp1 fn0 -> 2/3 ; class 1: tp0 fn1 -> 0 ; class 2: tp1 -> 1
    assert M.macro_f1([0, 1, 2], [0, 0, 2], 3) == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_multilabel_f1_per_label() -> None:
    gold = np.array([[1, 0], [1, 1], [0, 0]], dtype=bool)
    pred = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)
    f1 = M.multilabel_f1(gold, pred)
    assert f1[0] == pytest.approx(2 / 3)
    assert f1[1] == pytest.approx(2 / 3)


def test_thresholds_maximise_f1() -> None:
    gold = np.array([[1], [1], [0], [0]], dtype=bool)
    probs = np.array([[0.3], [0.25], [0.2], [0.1]])
    th = M.tune_thresholds(gold, probs)
    assert 0.2 < th[0] <= 0.25
    assert M.multilabel_f1(gold, probs >= th).mean() == 1.0


def test_temperature_fit_recovers_scale() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 2
    gold = np.array([rng.choice(3, p=M.softmax(z)) for z in true_logits])
    t = M.fit_temperature_softmax(true_logits * 3, gold)  # over-confident by 3x
    assert 2.5 < t < 3.6
    glab = rng.random((4000, 2)) < M.sigmoid(true_logits[:, :2])
    t2 = M.fit_temperature_sigmoid(true_logits[:, :2] * 0.5, glab)  # under-confident
    assert 0.4 < t2 < 0.6


def test_grouped_thresholds_silence_a_sibling_that_only_adds_false_groups() -> None:
    # labels 0 and 1 form one group, label 2 another; label 1 is noisy: alone it is worth
    # a low threshold (it catches its own rare positives), but each firing also predicts
    # the whole group where label 0 is silent -- the group objective raises its threshold
    rng = np.random.default_rng(3)
    n = 4000
    gold = np.zeros((n, 3), dtype=bool)
    gold[:, 0] = rng.random(n) < 0.3
    gold[:, 1] = rng.random(n) < 0.05
    gold[:, 2] = rng.random(n) < 0.3
    probs = np.where(gold, 0.7, 0.2) + rng.normal(0, 0.1, (n, 3))
    probs[:, 1] = np.where(gold[:, 1], 0.3, 0.2) + rng.normal(0, 0.08, n)
    probs = np.clip(probs, 0, 1)
    groups = np.array([[True, False], [True, False], [False, True]])

    def group_f1(th: np.ndarray) -> float:
        g = (gold.astype(int) @ groups.astype(int)) > 0
        p = ((probs >= th).astype(int) @ groups.astype(int)) > 0
        return float(M.multilabel_f1(g, p).mean())

    plain = M.tune_thresholds(gold, probs)
    assert np.array_equal(M.tune_thresholds_grouped(gold, probs, groups, 0.0), plain)
    grouped = M.tune_thresholds_grouped(gold, probs, groups, 0.5)
    assert grouped[1] > plain[1]
    assert group_f1(grouped) > group_f1(plain) + 0.01
    # the labels' own F1 gives up less than the groups gain
    label_loss = (
        M.multilabel_f1(gold, probs >= plain).mean()
        - M.multilabel_f1(gold, probs >= grouped).mean()
    )
    assert label_loss < group_f1(grouped) - group_f1(plain)
