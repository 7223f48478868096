"""One pushed series' state, and how a pushed value updates it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from loglens.push.models import HistogramValue, MetricIn, SampleValue, SummaryValue


class Rejected(Exception):
    """A metric that cannot be applied; ``field`` names the offending part when there is one."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


class Window:
    """The latest observations of one summary series, with the time each arrived.

    Written here because prometheus_client's Summary reports no quantiles: a fixed ring of two numpy
    arrays keeps each series' memory bounded whatever the push rate.
    """

    __slots__ = ("_next", "_times", "_values")

    def __init__(self, size: int) -> None:
        self._times = np.full(size, -np.inf)
        self._values = np.zeros(size)
        self._next = 0

    def add(self, when: float, value: float) -> None:
        """Record one observation, overwriting the oldest when full."""
        slot = self._next % len(self._values)
        self._times[slot] = when
        self._values[slot] = value
        self._next += 1

    def since(self, start: float) -> np.ndarray:
        """Copy of the observations that arrived at or after ``start``."""
        return self._values[self._times >= start].copy()


@dataclass(slots=True)
class Scalar:
    """A counter's total or a gauge's value."""

    mode: str
    updated: float = 0.0
    stamp: float | None = None  # sample timestamp of the last gauge value or running total
    value: float = 0.0
    raw: float | None = None  # last running total received


@dataclass(slots=True)
class Distribution:
    """A histogram (cumulative count per bound, then +Inf) or a summary, with sum and count."""

    mode: str
    counts: list[float]
    updated: float = 0.0
    stamp: float | None = None
    sum: float = 0.0
    count: float = 0.0
    raw: tuple[float, ...] | None = None  # last running totals received: (*counts, sum, count)
    quantile_values: tuple[float, ...] = ()
    window: Window | None = None


def check_order(series: Scalar | Distribution, stamp: float | None) -> None:
    """Refuse a value older than the last one: a late running total would look like a restart."""
    if stamp is None:
        return
    if series.stamp is not None and stamp < series.stamp:
        raise Rejected(
            "value.timestamp", f"timestamp {stamp} is older than this series' last ({series.stamp})"
        )
    series.stamp = stamp


def update_scalar(series: Scalar, metric: MetricIn, kind: str) -> None:
    """Set a gauge, add a counter increment, or add the increase since the last running total."""
    assert isinstance(metric.value, SampleValue)  # the models allow counters and gauges nothing else
    value = metric.value.value
    if kind == "set":
        check_order(series, metric.value.timestamp)
        series.value = value
    elif kind == "increment":
        if value < 0:
            raise Rejected("value.value", f"a counter increment must not be negative, got {value}")
        series.value += value
    else:
        if value < 0:
            raise Rejected("value.value", f"a counter total must not be negative, got {value}")
        check_order(series, metric.value.timestamp)
        series.value += value if series.raw is None or value < series.raw else value - series.raw
        series.raw = value


def update_distribution(
    series: Distribution, bounds: tuple[float, ...], metric: MetricIn, kind: str, now: float
) -> None:
    """Add an observation, or pre-aggregated increments or running totals, to a histogram or summary."""
    value = metric.value
    if isinstance(value, SampleValue):
        if series.window is not None:
            series.window.add(now, value.value)
        else:
            for slot in range(bisect.bisect_left(bounds, value.value), len(series.counts)):
                series.counts[slot] += 1
        series.sum += value.value
        series.count += 1
        return
    if isinstance(value, HistogramValue):
        totals = (*value.cumulative, value.sum, value.count)
    else:
        assert isinstance(value, SummaryValue)
        totals = (value.sum, value.count)
    increase = totals
    if kind == "cumulative":
        check_order(series, value.timestamp)
        previous = series.raw
        # every total but the sum only grows between restarts; a sum may shrink on negative observations
        restarted = previous is None or any(
            new < old
            for i, (new, old) in enumerate(zip(totals, previous, strict=True))
            if i != len(totals) - 2
        )
        if not restarted and previous is not None:
            increase = tuple(new - old for new, old in zip(totals, previous, strict=True))
        series.raw = totals
    for slot, amount in enumerate(increase[:-2]):
        series.counts[slot] += amount
    series.sum += increase[-2]
    series.count += increase[-1]
    if isinstance(value, SummaryValue):
        series.quantile_values = tuple(v for _, v in value.pairs)
