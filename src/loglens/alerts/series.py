"""What one alert rule keeps: per second of event time and per group, the sums its value is made of.

A rule's value over its window is a sum of seconds (counts; numerator and denominator; a histogram of
values), kept as a running sum over the window that moves one second at a time, so evaluating every
second of a day-long replay costs the seconds it moves, not the window's length each time. A record
folded late into a second inside the current window is added to the running sum too.

Quantiles come from a log-bucketed histogram (relative error :data:`RELATIVE_ERROR`, as DDSketch
does): the buckets of one batch are computed in one polars expression, which a per-value sketch
library could not do.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

#: A group: the values of the rule's ``by:`` fields ("" for a null); () for an ungrouped rule.
Group = tuple[str, ...]
#: The group the values past the rule's cap are pooled in.
OTHER_GROUP = "__other__"
#: A quantile is within this fraction of the true value.
RELATIVE_ERROR = 0.01
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
LOG_GAMMA = math.log(GAMMA)
#: The bucket of values at or below zero.
ZERO_BUCKET = -(2**31)


def bucket_value(index: int) -> float:
    """The value a histogram bucket stands for (0 for the zero bucket)."""
    if index == ZERO_BUCKET:
        return 0.0
    return 2 * GAMMA**index / (GAMMA + 1)


def quantile(histogram: Counter[int], q: float) -> float | None:
    """The ``q`` quantile of a histogram of bucket counts (None when empty)."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = q * (total - 1)
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen > rank:
            return bucket_value(index)
    return bucket_value(max(histogram))


class Sums:
    """Additive per-group sums: ``width`` numbers each (a count; a numerator and a denominator), or
    histograms (``width`` 0)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.values: dict[Group, Any] = {}

    def add(self, group: Group, delta: Any, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (-1) ``delta``; a group back at zero is forgotten."""
        if self.width:
            current = self.values.get(group) or [0.0] * self.width
            current = [a + sign * b for a, b in zip(current, delta, strict=True)]
            if any(current):
                self.values[group] = current
            else:
                self.values.pop(group, None)
            return
        histogram: Counter[int] = self.values.setdefault(group, Counter())
        if sign > 0:
            histogram.update(delta)
        else:
            histogram.subtract(delta)
            for index in [i for i, n in histogram.items() if n <= 0]:
                del histogram[index]
        if not histogram:
            del self.values[group]

    def merge(self, other: Sums, sign: int = 1) -> None:
        """Add (or take away) every group of ``other``."""
        for group, delta in other.values.items():
            self.add(group, delta, sign)

    def to_state(self) -> list[Any]:
        """JSON-ready: ``[group, sums]`` pairs (a histogram as ``[[bucket, count], ...]``)."""
        if self.width:
            return [[list(group), values] for group, values in self.values.items()]
        return [[list(group), sorted(h.items())] for group, h in self.values.items()]

    @classmethod
    def from_state(cls, width: int, state: Iterable[Any]) -> Sums:
        sums = cls(width)
        for group, values in state:
            sums.values[tuple(group)] = list(values) if width else Counter(dict(map(tuple, values)))
        return sums


class Series:
    """The seconds of one rule, and the running sum over its window.

    Args:
        width: numbers per group (0: histograms).
        window: seconds the running sum covers.
        keep: seconds kept behind the newest one (the window, and what may still arrive late).
        max_groups: distinct groups kept; the rest pooled as :data:`OTHER_GROUP`.
    """

    def __init__(self, width: int, window: int, keep: int, max_groups: int) -> None:
        self.width = width
        self.window = window
        self.keep = max(keep, window)
        self.max_groups = max_groups
        self.seconds: dict[int, Sums] = {}
        self.running = Sums(width)
        self.at: int | None = None  # the last second of the running window
        self.newest: int | None = None
        self._groups: set[Group] = set()

    def add(self, second: int, group: Group, delta: Any) -> None:
        """Fold ``delta`` into ``group`` at ``second``."""
        if group not in self._groups:
            if len(self._groups) >= self.max_groups:
                group = tuple(OTHER_GROUP for _ in group)
            self._groups.add(group)
        sums = self.seconds.get(second)
        if sums is None:
            sums = self.seconds[second] = Sums(self.width)
        sums.add(group, delta)
        if self.at is not None and self.at - self.window < second <= self.at:
            self.running.add(group, delta)
        if self.newest is None or second > self.newest:
            self.newest = second

    def window_at(self, now: int) -> dict[Group, Any]:
        """The sums over the seconds ``s`` with ``now - window < s <= now``, by group."""
        at = self.at
        if at is None or now < at or now - at >= self.window:
            self.running = Sums(self.width)
            for second in range(now - self.window + 1, now + 1):
                if second in self.seconds:
                    self.running.merge(self.seconds[second])
        else:
            for second in range(at + 1, now + 1):
                if second in self.seconds:
                    self.running.merge(self.seconds[second])
                gone = self.seconds.get(second - self.window)
                if gone is not None:
                    self.running.merge(gone, -1)
        self.at = now
        self._evict()
        return self.running.values

    def _evict(self) -> None:
        if self.newest is None:
            return
        oldest = max(self.newest, self.at or self.newest) - self.keep
        stale = [second for second in self.seconds if second <= oldest]
        if stale:
            for second in stale:
                if self.at is not None and second > self.at - self.window:  # leaves the running sum now
                    self.running.merge(self.seconds[second], -1)
                del self.seconds[second]
            self._groups = {group for sums in self.seconds.values() for group in sums.values}

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: the kept seconds (the running sum is rebuilt from them)."""
        return {"seconds": [[second, sums.to_state()] for second, sums in sorted(self.seconds.items())]}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`to_state` returned."""
        self.seconds = {int(s): Sums.from_state(self.width, sums) for s, sums in state.get("seconds", [])}
        self._groups = {group for sums in self.seconds.values() for group in sums.values}
        self.newest = max(self.seconds, default=None)
        self.running, self.at = Sums(self.width), None
