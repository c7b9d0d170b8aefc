"""The statistics of the dashboard: proportions, NPS, differences and correlations with their CIs.

This module owns the pure math (no database): the Wilson score interval for a proportion, the
NPS and its interval from the trinomial variance, Newcombe's hybrid Wilson interval for the
difference of two independent proportions, and Pearson's r with its Fisher-z interval. Every
function takes counts, never rows, so the queries can aggregate in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile of ``confidence`` (1.96 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval (same unit)."""

    value: float
    low: float
    high: float


def wilson(successes: int, n: int, *, confidence: float = 0.95) -> Interval | None:
    """The proportion ``successes / n`` and its Wilson score interval, in [0, 1].

    Returns:
        ``None`` when ``n`` is 0.

    Raises:
        ValueError: ``successes`` is not between 0 and ``n``.
    """
    if n == 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} not in 0..{n}")
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high)


def nps(
    promoters: int, passives: int, detractors: int, *, confidence: float = 0.95
) -> Interval | None:
    """The NPS (``%promoters - %detractors``, -100..100) and its interval.

    The variance of the NPS of one answer (+1 promoter, 0 passive, -1 detractor) is
    ``p + d - (p - d)^2`` (trinomial); the interval is the normal approximation
    ``NPS ± z·100·sqrt(var / n)``, clipped to [-100, 100].

    Returns:
        ``None`` when there is no answer.
    """
    n = promoters + passives + detractors
    if n == 0:
        return None
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts must not be negative")
    p, d = promoters / n, detractors / n
    value = p - d
    variance = p + d - value * value
    half = z_value(confidence) * math.sqrt(max(variance, 0.0) / n)
    return Interval(
        100 * value, max(-100.0, 100 * (value - half)), min(100.0, 100 * (value + half))
    )


def newcombe(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> Interval | None:
    """``p_a - p_b`` for two independent proportions, with Newcombe's hybrid Wilson interval.

    Newcombe (1998), method 10: from the Wilson intervals ``(l1, u1)`` and ``(l2, u2)``,
    ``low = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``, ``high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.

    Returns:
        ``None`` when either sample is empty.
    """
    a = wilson(successes_a, n_a, confidence=confidence)
    b = wilson(successes_b, n_b, confidence=confidence)
    if a is None or b is None:
        return None
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation of two equally long series (``None`` if undefined)."""
    if len(xs) != len(ys):
        raise ValueError("series of different lengths")
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def fisher_interval(r: float, n: int, *, confidence: float = 0.95) -> Interval | None:
    """The confidence interval of a correlation ``r`` over ``n`` pairs (Fisher z).

    ``z = atanh(r)``, standard error ``1 / sqrt(n - 3)``; back-transformed with ``tanh``.

    Returns:
        ``None`` when ``n < 4`` (no interval exists).
    """
    if n < 4:
        return None
    clipped = max(-0.999999, min(0.999999, r))
    z = math.atanh(clipped)
    half = z_value(confidence) / math.sqrt(n - 3)
    return Interval(r, math.tanh(z - half), math.tanh(z + half))
