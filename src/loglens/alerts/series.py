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


#: One second's (or the running window's) sums by group: ``width`` numbers, or a histogram.
Groups = dict[Group, Any]


class Sums:
    """Adds and takes away per-group sums: ``width`` numbers each (a count; a numerator and a
    denominator), or histograms (``width`` 0)."""

    def __init__(self, width: int) -> None:
        self.width = width

    def add(self, into: Groups, group: Group, delta: Any, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (-1) ``delta``; a group back at zero is forgotten."""
        current = into.get(group)
        if self.width:
            if current is None:
                into[group] = [sign * value for value in delta]
                return
            for n, value in enumerate(delta):
                current[n] += sign * value
            if sign < 0 and not any(current):
                del into[group]
            return
        if current is None:
            current = into[group] = Counter()
        if sign > 0:
            current.update(delta)
            return
        current.subtract(delta)
        for index in [i for i, n in current.items() if n <= 0]:
            del current[index]
        if not current:
            del into[group]

    def merge(self, into: Groups, other: Groups, sign: int = 1) -> None:
        """Add (or take away) every group of ``other``."""
        for group, delta in other.items():
            self.add(into, group, delta, sign)

    def to_state(self, sums: Groups) -> list[Any]:
        """JSON-ready: ``[group, sums]`` pairs (a histogram as ``[[bucket, count], ...]``)."""
        if self.width:
            return [[list(group), values] for group, values in sums.items()]
        return [[list(group), sorted(h.items())] for group, h in sums.items()]

    def from_state(self, state: Iterable[Any]) -> Groups:
        if self.width:
            return {tuple(group): list(values) for group, values in state}
        return {tuple(group): Counter(dict(map(tuple, values))) for group, values in state}


class Series:
    """The seconds of one rule, and the running sum over its window.

    Args:
        width: numbers per group (0: histograms).
        window: seconds the running sum covers.
        keep: seconds kept behind the newest one (the window, and what may still arrive late).
        max_groups: distinct groups kept; the rest pooled as :data:`OTHER_GROUP`.
    """

    def __init__(self, width: int, window: int, keep: int, max_groups: int) -> None:
        self.sums = Sums(width)
        self.window = window
        self.keep = max(keep, window)
        self.max_groups = max_groups
        self.seconds: dict[int, Groups] = {}
        self.running: Groups = {}
        self.at: int | None = None  # the last second of the running window
        self.newest: int | None = None
        self._groups: set[Group] = set()

    def add_rows(self, seconds: Iterable[int], groups: Iterable[Group], deltas: Iterable[Any]) -> None:
        """Fold ``deltas[i]`` into ``groups[i]`` at ``seconds[i]``: a batch in one tight loop, as a backlog
        of sparse traffic makes one row per second and group."""
        kept, known, sums = self.seconds, self._groups, self.sums
        low, high = (self.at - self.window, self.at) if self.at is not None else (0, -1)
        newest = self.newest
        for second, group, delta in zip(seconds, groups, deltas, strict=False):  # groups may repeat ()
            if group not in known:
                if len(known) >= self.max_groups:
                    group = tuple(OTHER_GROUP for _ in group)
                known.add(group)
            into = kept.get(second)
            if into is None:
                into = kept[second] = {}
            sums.add(into, group, delta)
            if low < second <= high:
                sums.add(self.running, group, delta)
            if newest is None or second > newest:
                newest = second
        self.newest = newest

    def window_at(self, now: int) -> Groups:
        """The sums over the seconds ``s`` with ``now - window < s <= now``, by group."""
        at, sums = self.at, self.sums
        if at is None or now < at or now - at >= self.window:
            self.running = {}
            for second in range(now - self.window + 1, now + 1):
                if second in self.seconds:
                    sums.merge(self.running, self.seconds[second])
        else:
            for second in range(at + 1, now + 1):
                if second in self.seconds:
                    sums.merge(self.running, self.seconds[second])
                gone = self.seconds.get(second - self.window)
                if gone is not None:
                    sums.merge(self.running, gone, -1)
        self.at = now
        self._evict()
        return self.running

    def _evict(self) -> None:
        if self.newest is None:
            return
        oldest = max(self.newest, self.at or self.newest) - self.keep
        stale = [second for second in self.seconds if second <= oldest]
        if stale:
            for second in stale:
                if self.at is not None and second > self.at - self.window:  # leaves the running sum now
                    self.sums.merge(self.running, self.seconds[second], -1)
                del self.seconds[second]
            self._groups = {group for groups in self.seconds.values() for group in groups}

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: the kept seconds (the running sum is rebuilt from them)."""
        return {
            "seconds": [
                [second, self.sums.to_state(groups)] for second, groups in sorted(self.seconds.items())
            ]
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`to_state` returned."""
        self.seconds = {
            int(second): self.sums.from_state(groups) for second, groups in state.get("seconds", [])
        }
        self._groups = {group for groups in self.seconds.values() for group in groups}
        self.newest = max(self.seconds, default=None)
        self.running, self.at = {}, None
