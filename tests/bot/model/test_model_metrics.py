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
