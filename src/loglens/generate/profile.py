"""The line-rate profile: how many lines exist up to an event-time offset, and when line ``i`` happens.

The rate is piecewise constant: the base rate times the traffic curve (``--profile``, constant over each
step of the curve), multiplied by the factors and increased by the extra rates of the scenarios active
at that moment. ``N(t)``, the number of lines before offset ``t``, is then piecewise linear, and line
``i`` happens at the offset where ``N`` reaches ``i``. Both directions are exact and vectorized, so event
times never drift with the number of lines.

Scenarios end, curves repeat: the segments are listed up to the first start of a curve period after the
last scenario, and from there on one period of the curve is repeated, so a run without an end needs
no more than that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from loglens.generate.curves import PROFILES, Curve

#: Tolerance on line counts, so that float rounding never moves a line across a boundary.
_EPSILON = 1e-6


class _Segments:
    """Piecewise-constant rates from ``points[k]`` on, with ``counts[k]`` lines before ``points[k]``."""

    def __init__(self, points: np.ndarray, rates: np.ndarray, end: float) -> None:
        keep = np.concatenate([[True], rates[1:] != rates[:-1]])  # merge equal neighbours
        self.points, self.rates = points[keep], rates[keep]
        spans = np.diff(np.append(self.points, end)) * self.rates
        self.counts = np.concatenate([[0.0], np.cumsum(spans)])
        self.total = float(self.counts[-1])

    def count(self, t: float) -> float:
        k = max(int(np.searchsorted(self.points, t, side="right")) - 1, 0)
        return float(self.counts[k] + (t - self.points[k]) * self.rates[k])

    def offsets(self, index: np.ndarray) -> np.ndarray:
        k = np.maximum(np.searchsorted(self.counts[:-1], index, side="right") - 1, 0)
        return self.points[k] + (index - self.counts[k]) / self.rates[k]


class RateProfile:
    """Line rate over event-time offsets (seconds from the start), exact in both directions."""

    def __init__(
        self,
        rate: float,
        changes: Iterable[tuple[float, float, float, float]] = (),
        curve: Curve = PROFILES["flat"],
        phase: float = 0.0,
    ) -> None:
        """Build the profile.

        Args:
            rate: base lines per second (> 0): the mean over each period of the curve.
            changes: ``(start, end, factor, extra)`` windows: within ``[start, end)`` the rate is
                multiplied by ``factor`` and ``extra`` lines/s are added.
            curve: the traffic curve the base rate follows.
            phase: where in the curve's period offset 0 falls (``curve.phase(origin)``).
        """
        windows = list(changes)
        period, step = curve.period, curve.step
        last = max([0.0, *(end for _, end, *_ in windows)])
        # the first start of a period after every scenario: from there on, the curve just repeats
        self._repeat = (math.floor((phase + last) / period) + 1) * period - phase
        first_step = (math.floor(phase / step) + 1) * step - phase
        steps = np.arange(first_step, self._repeat, step)
        cuts = {t for start, end, *_ in windows for t in (start, end) if 0 < t < self._repeat}
        points = np.unique(np.concatenate([[0.0], steps[steps > 0], sorted(cuts)]))
        middles = (points + np.append(points[1:], self._repeat)) / 2
        level = curve.values[((phase + middles) // step).astype(np.int64) % len(curve.values)]
        factors, extras = np.ones(len(points)), np.zeros(len(points))
        for start, end, factor, extra in windows:
            active = (points >= start) & (points < end)
            factors[active] *= factor
            extras[active] += extra
        rates = rate * level * factors + extras
        self._head = _Segments(points, rates, self._repeat)
        self._cycle = _Segments(np.arange(len(curve.values)) * step, rate * curve.values, period)
        self._period = period

    def count(self, t: float) -> float:
        """Return ``N(t)``, the (fractional) number of lines with an offset before ``t``."""
        if t < self._repeat:
            return self._head.count(t)
        cycles, rest = divmod(t - self._repeat, self._period)
        return self._head.total + cycles * self._cycle.total + self._cycle.count(rest)

    def due(self, t: float) -> int:
        """Number of lines whose offset is at or before ``t``."""
        return math.floor(self.count(t) + _EPSILON) + 1

    def before(self, t: float) -> int:
        """Number of lines whose offset is strictly before ``t``."""
        return math.ceil(self.count(t) - _EPSILON)

    def window(self, start: float, end: float) -> tuple[int, int]:
        """Return the index range ``[a, b)`` of the lines with an offset in ``[start, end)``."""
        return self.before(start), self.before(end)

    def offsets(self, index: np.ndarray) -> np.ndarray:
        """Return the event-time offset (seconds) of each line index."""
        head = index < self._head.total
        out = np.empty(len(index))
        out[head] = self._head.offsets(index[head])
        if not head.all():
            cycles, rest = np.divmod(index[~head] - self._head.total, self._cycle.total)
            out[~head] = self._repeat + cycles * self._period + self._cycle.offsets(rest)
        return out

    def offset(self, index: int) -> float:
        """Return the offset of one line index."""
        if index < self._head.total:
            return float(self._head.offsets(np.array([float(index)]))[0])
        cycles, rest = divmod(index - self._head.total, self._cycle.total)
        return self._repeat + cycles * self._period + float(self._cycle.offsets(np.array([rest]))[0])
