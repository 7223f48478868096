"""The line-rate profile: how many lines exist up to an event-time offset, and when line ``i`` happens.

The rate is piecewise constant: the base rate, multiplied by the factors and increased by the extra
rates of the scenarios active at that moment. ``N(t)``, the number of lines before offset ``t``, is
then piecewise linear, and line ``i`` happens at the offset where ``N`` reaches ``i``. Both directions
are exact and vectorized, so event times never drift with the number of lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: Tolerance on line counts, so that float rounding never moves a line across a boundary.
_EPSILON = 1e-6


class RateProfile:
    """Piecewise-constant line rate over event-time offsets (seconds from the start)."""

    def __init__(self, rate: float, changes: Iterable[tuple[float, float, float, float]] = ()) -> None:
        """Build the profile.

        Args:
            rate: base lines per second (> 0).
            changes: ``(start, end, factor, extra)`` windows: within ``[start, end)`` the base rate is
                multiplied by ``factor`` and ``extra`` lines/s are added.
        """
        windows = list(changes)
        points = sorted({0.0} | {t for start, end, *_ in windows for t in (start, end) if t > 0})
        rates = []
        for t in points:
            active = [(factor, extra) for start, end, factor, extra in windows if start <= t < end]
            rates.append(rate * math.prod(f for f, _ in active) + sum(x for _, x in active))
        self._points = np.array(points)
        self._rates = np.array(rates)
        spans = np.diff(self._points) * self._rates[:-1]
        self._counts = np.concatenate([[0.0], np.cumsum(spans)])

    def count(self, t: float) -> float:
        """Return ``N(t)``, the (fractional) number of lines with an offset before ``t``."""
        k = max(int(np.searchsorted(self._points, t, side="right")) - 1, 0)
        return float(self._counts[k] + (t - self._points[k]) * self._rates[k])

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
        k = np.searchsorted(self._counts, index, side="right") - 1
        return self._points[k] + (index - self._counts[k]) / self._rates[k]

    def offset(self, index: int) -> float:
        """Return the offset of one line index."""
        return float(self.offsets(np.array([index]))[0])
