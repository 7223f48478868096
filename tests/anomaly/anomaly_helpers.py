"""Stepped seconds of counts straight into the windows' buckets, for the rate detectors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from loglens.aggregate.windows import SecondStats, Windows
from loglens.anomaly.config import AnomalyConfig
from loglens.anomaly.rates import RateDetectors

#: 2026-11-02T00:00:00Z, a Monday.
DAY0 = 1_793_577_600
DAY = 86_400


def detectors(**config: object) -> RateDetectors:
    """Detectors over empty windows (``config``: settings of ``anomaly:``)."""
    return RateDetectors(AnomalyConfig.model_validate(config), Windows(keep_seconds=900))


def step(
    found: RateDetectors,
    start: int,
    end: int,
    hits: Callable[[int], int],
    errors: Callable[[int], int] | None = None,
) -> None:
    """Seconds ``start`` to ``end - 1`` with ``hits(second)`` requests (``errors(second)`` of them 5xx),
    each evaluated once the next second begins."""
    buckets = found.windows.buckets
    for second in range(start, end):
        buckets[second] = SecondStats(hits=hits(second), errors_5xx=errors(second) if errors else 0)
        found.evaluate(second + 1)
        buckets.pop(second - 60, None)


def poisson(rate: Callable[[int], float], seed: int = 0) -> Callable[[int], int]:
    """Poisson counts of mean ``rate(second)``, drawn an hour at a time."""
    rng = np.random.default_rng(seed)
    drawn: dict[int, list[int]] = {}

    def count(second: int) -> int:
        hour = second // 3600
        if hour not in drawn:
            drawn.clear()
            drawn[hour] = rng.poisson([rate(s) for s in range(hour * 3600, hour * 3600 + 3600)]).tolist()
        return drawn[hour][second % 3600]

    return count


def diurnal(mean: float) -> Callable[[int], float]:
    """``mean`` lines/s shaped like ``loglens generate --profile diurnal``, one value a minute."""
    from loglens.generate.curves import diurnal_shape

    day = (mean * diurnal_shape(np.arange(1440) / 60)).tolist()
    return lambda second: float(day[second % DAY // 60])
