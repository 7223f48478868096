"""Scores: how far an observed count is from a baseline, in robust standard deviations.

A count over a few seconds is noisy even when nothing is wrong, the more so the smaller it is, so the
difference is taken after Anscombe's square-root transform, under which a Poisson count has variance
about 1 whatever its mean: the Poisson floor. Variation beyond Poisson, measured robustly on the
baseline's periods (median and MAD), widens the scale; a baseline period's count ``x`` with relative
spread ``s`` has variance ``x + (s x)^2``, and ``2 sqrt(x)`` has ``1 + s^2 x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The MAD of a normal sample times this is its standard deviation.
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Baseline:
    """What a series is expected to do: ``rate`` per second, with relative ``spread`` beyond Poisson."""

    rate: float
    spread: float


def baseline_of(counts: np.ndarray, period: int, spread_floor: float = 0.0) -> Baseline:
    """The baseline of counts of periods of ``period`` seconds: their median, and their robust spread
    (MAD) beyond what Poisson noise of that median explains, relative to it."""
    median = float(np.median(counts))
    if median <= 0:
        return Baseline(0.0, spread_floor)
    sigma = MAD_SCALE * float(np.median(np.abs(counts - median)))
    extra = max(0.0, sigma * sigma - median)
    return Baseline(median / period, max(spread_floor, math.sqrt(extra) / median))


def score(observed: float, expected: float, spread: float) -> float:
    """Standard deviations from ``expected`` to ``observed``: positive above, negative below."""
    difference = 2.0 * (math.sqrt(observed + 0.375) - math.sqrt(expected + 0.375))
    return difference / math.sqrt(1.0 + spread * spread * expected)
