"""Tests of bot/analytics/stats.py against hand-computed and published values."""

from __future__ import annotations

import math

import pytest

from bot.analytics.stats import fisher_interval, newcombe, nps, pearson, wilson, z_value


def test_z_values() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.90) == pytest.approx(1.644854, abs=1e-6)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_wilson_matches_the_hand_computation() -> None:
    # p = 3/5, z = 1.96: centre = (0.6 + z²/10) / (1 + z²/5),
    # half = z·sqrt(0.048 + z²/100) / (1 + z²/5)
    z = z_value(0.95)
    denominator = 1 + z * z / 5
    centre = (0.6 + z * z / 10) / denominator
    half = z * math.sqrt(0.6 * 0.4 / 5 + z * z / 100) / denominator
    interval = wilson(3, 5)
    assert interval is not None
    assert interval.value == 0.6
    assert interval.low == pytest.approx(centre - half)
    assert interval.high == pytest.approx(centre + half)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.2307, 0.8824)


def test_wilson_edges() -> None:
    assert wilson(0, 0) is None
    zero = wilson(0, 10)
    assert zero is not None and zero.low == 0.0 and zero.high == pytest.approx(0.2775, abs=1e-4)
    full = wilson(10, 10)
    assert full is not None and full.high == 1.0 and full.low == pytest.approx(0.7225, abs=1e-4)
    with pytest.raises(ValueError):
        wilson(6, 5)


def test_nps_and_trinomial_interval() -> None:
    # 2 promoters, 1 passive, 1 detractor: NPS = 50 - 25 = 25;
    # var = p + d - (p - d)² = 0.5 + 0.25 - 0.0625 = 0.6875; half = 1.96·sqrt(0.6875/4)
    interval = nps(2, 1, 1)
    assert interval is not None
    assert interval.value == pytest.approx(25.0)
    half = 100 * z_value(0.95) * math.sqrt(0.6875 / 4)
    assert interval.low == pytest.approx(25.0 - half)
    assert interval.high == 100.0  # clipped (25 + 81.3)
    wide = nps(50, 30, 20)
    assert wide is not None
    assert wide.value == pytest.approx(30.0)
    half = 100 * z_value(0.95) * math.sqrt((0.5 + 0.2 - 0.09) / 100)
    assert (wide.low, wide.high) == (pytest.approx(30 - half), pytest.approx(30 + half))
    assert nps(0, 0, 0) is None


def test_newcombe_difference_of_proportions() -> None:
    # Newcombe (1998) table II example: 56/70 vs 48/80 → d = 0.2, 95 % CI (0.0524, 0.3339)
    interval = newcombe(56, 70, 48, 80)
    assert interval is not None
    assert interval.value == pytest.approx(0.2)
    assert interval.low == pytest.approx(0.0524, abs=1e-4)
    assert interval.high == pytest.approx(0.3339, abs=1e-4)
    assert newcombe(1, 0, 1, 2) is None


def test_pearson_and_fisher_interval() -> None:
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert pearson(xs, [2.0, 4.0, 6.0, 8.0, 10.0]) == pytest.approx(1.0)
    assert pearson(xs, [5.0, 4.0, 3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert pearson(xs, [1.0, 1.0, 1.0, 1.0, 1.0]) is None
    r = pearson([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0])
    assert r == pytest.approx(0.8)
    # r = 0.5, n = 28: z = 0.5493, se = 0.2, CI = tanh(0.5493 ± 0.392) = (0.1560, 0.7358)
    interval = fisher_interval(0.5, 28)
    assert interval is not None
    assert interval.low == pytest.approx(0.1560, abs=1e-4)
    assert interval.high == pytest.approx(0.7358, abs=1e-4)
    assert fisher_interval(0.9, 3) is None
