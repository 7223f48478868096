"""The series of the user metrics: folded per batch, bounded, expiring, saved in the checkpoint.

Each metric keeps at most ``max_series`` label sets; the observations of a label set beyond that are
counted as dropped (``loglens_user_metric_dropped_total{metric}``). Series not updated for ``ttl``
seconds are removed, which makes room. A counter only grows; a histogram's buckets are cumulative
(``le``: values at or below the bound); a gauge holds the last value, or the max or min of the values
since the previous scrape (:meth:`UserMetrics.scraped`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from loglens.metrics.compile import LINE, VALUE, CompiledMetric
from loglens.metrics.config import MetricConfig
from loglens.records import Batch

Key = tuple[str, ...]
#: Per rule that matched lines of a batch: its index and its rows.
Observed = list[tuple[int, pl.DataFrame]]


class MetricState:
    """Every series of one metric name (the rules of that name add into it)."""

    def __init__(self, config: MetricConfig, ttl: float) -> None:
        self.config = config
        self.type = config.type
        self.labels = list(config.labels)
        self.bounds = config.bounds
        self.ttl = config.ttl or ttl
        #: counter: [value]; gauge: [value]; histogram: [cumulative count per bound..., count, sum].
        self.series: dict[Key, list[float]] = {}
        self.seen: dict[Key, float] = {}
        self.fresh: set[Key] = set()  # gauge series observed since the last scrape
        self.dropped = 0

    def _aggregate(self, rows: pl.DataFrame) -> pl.DataFrame:
        value = pl.col(VALUE)
        counts = [pl.len().alias("__n")]
        if self.type == "counter":
            counts.append(value.sum() if VALUE in rows.columns else pl.len().cast(pl.Float64))
        elif self.type == "gauge":
            how = self.config.aggregate or "last"
            counts.append(getattr(value, how)())
        else:
            counts += [(value <= bound).sum().alias(f"__b{i}") for i, bound in enumerate(self.bounds)]
            counts += [pl.len().alias("__count"), value.sum().alias("__sum")]
        if not self.labels:
            return rows.select(counts)
        return rows.group_by(self.labels, maintain_order=True).agg(counts)

    def fold(self, rows: pl.DataFrame, now: float) -> None:
        """Add one batch's observations of one rule."""
        width = len(self.labels)
        series, seen = self.series, self.seen
        for row in self._aggregate(rows).iter_rows():
            key: Key = row[:width]
            values = series.get(key)
            if values is None:
                if len(series) >= self.config.max_series:
                    self.dropped += int(row[width])
                    continue
                values = series[key] = [0.0] * (len(row) - width - 1)
            seen[key] = now
            self._add(key, values, row[width + 1 :])

    def _add(self, key: Key, values: list[float], new: Sequence[Any]) -> None:
        if self.type != "gauge":
            for i, amount in enumerate(new):
                values[i] += amount
            return
        value, how = float(new[0]), self.config.aggregate or "last"
        if how == "last" or key not in self.fresh:
            values[0] = value
        else:
            values[0] = max(values[0], value) if how == "max" else min(values[0], value)
        self.fresh.add(key)

    def expire(self, before: float) -> None:
        """Remove series last updated before ``before``."""
        for key in [key for key, seen in self.seen.items() if seen < before]:
            del self.series[key], self.seen[key]
            self.fresh.discard(key)

    def to_state(self) -> dict[str, Any]:
        """The series and the drop count, JSON-ready."""
        return {
            "type": self.type,
            "labels": self.labels,
            "series": [[list(key), values] for key, values in self.series.items()],
            "dropped": self.dropped,
        }

    def load_state(self, state: dict[str, Any], now: float) -> None:
        """Restore :meth:`to_state`, when of this shape (else the rule changed: it starts over)."""
        if state.get("type") != self.type or state.get("labels") != self.labels:
            return
        width = len(self.bounds) + 2 if self.type == "histogram" else 1
        for key, values in state["series"]:
            if len(key) == len(self.labels) and len(values) == width:
                self.series[tuple(map(str, key))] = [float(v) for v in values]
                self.seen[tuple(map(str, key))] = now
        self.dropped = int(state["dropped"])


class UserMetrics:
    """The ``metrics:`` rules and their series, behind one lock (the loop writes, scrapes read)."""

    def __init__(self, configs: Sequence[MetricConfig], ttl: float, explain: int = 0) -> None:
        self.rules = [CompiledMetric(config) for config in configs]
        self.metrics: dict[str, MetricState] = {}
        for config in configs:
            self.metrics.setdefault(config.name, MetricState(config, ttl))
        self.lock = threading.RLock()
        #: With ``explain``, per rule: lines matched and the first ``explain`` of them.
        self.explain = explain
        self.matched = [0] * len(self.rules)
        self.examples: list[list[str]] = [[] for _ in self.rules]

    def update(self, batch: Batch, now: float) -> None:
        """Fold one batch into every rule's metric."""
        self.fold(batch, self.observe(batch), now)

    def observe(self, batch: Batch) -> Observed:
        """Every rule's observations in ``batch``: the costly part of :meth:`update`, which reads no
        state, so a runtime runs it in a thread while it folds the batch's totals."""
        queries = [(i, rule.observations(batch)) for i, rule in enumerate(self.rules)]
        planned = [(i, query) for i, query in queries if query is not None]
        found = pl.collect_all([query for _, query in planned])
        return [(i, rows) for (i, _), rows in zip(planned, found, strict=True) if not rows.is_empty()]

    def fold(self, batch: Batch, observed: Observed, now: float) -> None:
        """Fold :meth:`observe`'s result for ``batch`` into the metrics."""
        with self.lock:
            for i, rows in observed:
                self.metrics[self.rules[i].config.name].fold(rows, now)
                if self.explain:
                    self.matched[i] += rows.height
                    room = self.explain - len(self.examples[i])
                    if room > 0:
                        self.examples[i] += batch.raw.gather(rows[LINE].head(room)).to_list()

    def scraped(self) -> None:
        """A scrape read the gauges: max and min gauges start over with their next value."""
        with self.lock:
            for metric in self.metrics.values():
                metric.fresh.clear()

    def expire(self, now: float) -> None:
        """Remove each metric's series idle past its ttl."""
        with self.lock:
            for metric in self.metrics.values():
                metric.expire(now - metric.ttl)

    def __iter__(self) -> Iterator[MetricState]:
        return iter(self.metrics.values())

    def to_state(self) -> dict[str, Any]:
        """Every metric's series, JSON-ready, by name."""
        with self.lock:
            return {name: metric.to_state() for name, metric in self.metrics.items()}

    def load_state(self, state: dict[str, Any], now: float) -> None:
        """Restore :meth:`to_state`; metrics no longer configured are left out."""
        with self.lock:
            for name, saved in state.items():
                if name in self.metrics:
                    self.metrics[name].load_state(saved, now)
