"""State of pushed metrics.

A series is one (metric, source, label values). Counters and pre-aggregated histograms or summaries take
increments or running totals: from totals the store derives the increase, a total that goes down being a
restart of the sender. Gauges are set. Histograms and summaries also take single observations. Series are
bounded per metric and in total, and leave the exposition after ``ttl_seconds`` without a push.
Readers get a :class:`Snapshot`; taking one changes nothing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from prometheus_client import Histogram

from loglens.clock import Clock, SystemClock
from loglens.config_sections import PushConfig
from loglens.metric_names import reserved_prefix
from loglens.push.models import (
    HistogramValue,
    MetricIn,
    MetricType,
    Mode,
    PushError,
    SampleValue,
    SummaryValue,
)
from loglens.push.series import Distribution, Rejected, Scalar, Window, update_distribution, update_scalar

DEFAULT_BUCKETS = tuple(bound for bound in Histogram.DEFAULT_BUCKETS if bound != math.inf)
DEFAULT_QUANTILES = (0.5, 0.9, 0.99)
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("", "_total", "_created"),
    "gauge": ("",),
    "histogram": ("", "_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}
#: A series as the store keys it: the exposed metric name, and (source, *label values by label name).
SeriesId = tuple[str, tuple[str, ...]]
_WORDS = {"increment": "increments", "cumulative": "running totals", "observe": "observations"}


@dataclass(slots=True)
class _Family:
    """One exposed metric and its series, keyed by (source, *label values in ``label_names`` order)."""

    name: str
    metric_type: MetricType
    label_names: tuple[str, ...]
    help: str
    bounds: tuple[float, ...] = ()
    quantiles: tuple[float, ...] = ()
    series: dict[tuple[str, ...], Scalar | Distribution] = field(default_factory=dict)

    def label_bytes(self, key: tuple[str, ...]) -> int:
        """What one series' labels cost in the exposition: its label names and values, in UTF-8."""
        names = sum(len(name) for name in self.label_names) + len("source")
        return names + sum(len(value.encode("utf-8", "surrogatepass")) for value in key)

    @property
    def sample_names(self) -> tuple[str, ...]:
        """Every name this metric's samples may take in either exposition format."""
        return tuple(self.name + suffix for suffix in _SUFFIXES[self.metric_type])


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One series as read at scrape time."""

    labels: tuple[str, ...]
    value: float = 0.0
    counts: tuple[float, ...] = ()
    sum: float = 0.0
    count: float = 0.0
    quantile_values: tuple[float, ...] = ()
    observations: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class FamilyView:
    """One metric as read at scrape time, with its live series."""

    name: str
    metric_type: MetricType
    help: str
    label_names: tuple[str, ...]
    bounds: tuple[float, ...]
    quantiles: tuple[float, ...]
    series: list[SeriesView]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the exposition needs, copied under the lock."""

    families: list[FamilyView]
    series: int
    accepted: int
    rejected: int


class PushStore:
    """Pushed series, safe to write from request handlers while scrapes read it."""

    def __init__(self, config: PushConfig, clock: Clock | None = None) -> None:
        """Start empty (``config`` has checked its prefix, see :class:`PushConfig`)."""
        self._prefix = config.metric_prefix
        self._config = config
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}
        self._claims: dict[str, str] = {}  # sample name -> family exposing it
        self._series = 0
        self._label_bytes = 0  # over every series held: what push.max_label_bytes bounds
        self._accepted = 0
        self._rejected = 0
        self._next_sweep = 0.0

    def apply(
        self,
        source: str,
        batch_mode: Mode,
        metrics: Sequence[tuple[int, MetricIn]],
        drop: Iterable[SeriesId] = (),
    ) -> list[PushError]:
        """Apply validated metrics in order; return one error per metric that could not be applied.

        The series of ``drop`` are removed first, under the same lock, so a scrape sees either the old
        series or the new ones (the Pushgateway protocol's replacing pushes).
        """
        now = self._clock.now()
        errors: list[PushError] = []
        seen: dict[tuple[object, ...], int] = {}
        with self._lock:
            for name, key in drop:
                self._drop(name, key)
            if now >= self._next_sweep:
                self._sweep(now)
            for index, metric in metrics:
                try:
                    self._apply_one(source, batch_mode, index, metric, now, seen)
                except Rejected as exc:
                    errors.append(PushError(index=index, name=metric.name, field=exc.field, message=str(exc)))
            self._accepted += len(metrics) - len(errors)
            self._rejected += len(errors)
        return errors

    def identity(self, source: str, metric: MetricIn) -> SeriesId:
        """The exposed name and series key ``metric`` from ``source`` is kept under.

        Raises:
            Rejected: the name would expose one of loglens's own.
        """
        return self._family_name(metric), (source, *(metric.labels[n] for n in sorted(metric.labels)))

    def holds(self, series: SeriesId) -> bool:
        """Whether the store still keeps ``series`` (idle ones are dropped at the next sweep)."""
        with self._lock:
            family = self._families.get(series[0])
            return family is not None and series[1] in family.series

    def delete(self, series: Iterable[SeriesId]) -> None:
        """Remove ``series`` now (those no longer held are skipped)."""
        with self._lock:
            for name, key in series:
                self._drop(name, key)

    def count_rejected(self, count: int) -> None:
        """Count metrics rejected before reaching the store (invalid ones)."""
        with self._lock:
            self._rejected += count

    def snapshot(self) -> Snapshot:
        """Copy the live series (idle ones are left out, not removed)."""
        now = self._clock.now()
        window_start = now - self._config.summary_window_seconds
        families = []
        with self._lock:
            for family in self._families.values():
                views = [
                    _view(key, s, window_start) for key, s in family.series.items() if not self._idle(s, now)
                ]
                if views:
                    families.append(
                        FamilyView(
                            family.name,
                            family.metric_type,
                            family.help,
                            family.label_names,
                            family.bounds,
                            family.quantiles,
                            views,
                        )
                    )
            return Snapshot(families, sum(len(f.series) for f in families), self._accepted, self._rejected)

    def _idle(self, series: Scalar | Distribution, now: float) -> bool:
        return now - series.updated > self._config.ttl_seconds

    def _apply_one(
        self,
        source: str,
        batch_mode: Mode,
        index: int,
        metric: MetricIn,
        now: float,
        seen: dict[tuple[object, ...], int],
    ) -> None:
        name = self._family_name(metric)
        label_names = tuple(sorted(metric.labels))
        key = (source, *(metric.labels[label] for label in label_names))
        first = seen.setdefault((name, label_names, key), index)
        if first != index:
            raise Rejected(None, f"same name and labels as metric {first} of this batch")
        family = self._family(metric, name, label_names, now)
        kind = _kind(metric, batch_mode)
        series = family.series.get(key)
        if series is not None and self._idle(series, now):
            series = None  # an expired series starts afresh
        if series is None:
            if key not in family.series:
                self._check_limits(family, key)
            series = self._new_series(family, kind)
        elif series.mode != kind:
            raise Rejected("mode", f"this series takes {_WORDS[series.mode]}, not {_WORDS[kind]}")
        if isinstance(series, Scalar):
            update_scalar(series, metric, kind)
        else:
            update_distribution(series, family.bounds, metric, kind, now)
        series.updated = now
        family.help = metric.help
        if name not in self._families:
            self._families[name] = family
            self._claims.update(dict.fromkeys(family.sample_names, name))
        if key not in family.series:
            self._series += 1
            self._label_bytes += family.label_bytes(key)
        family.series[key] = series

    def _family_name(self, metric: MetricIn) -> str:
        name = f"{self._prefix}_{metric.name}" if self._prefix else metric.name
        if metric.metric_type == "counter" and name.endswith("_total") and len(name) > len("_total"):
            name = name.removesuffix("_total")  # the exposition adds it back
        for sample_name in (name + suffix for suffix in _SUFFIXES[metric.metric_type]):
            taken = reserved_prefix(sample_name)
            if taken is not None:
                raise Rejected(
                    "name",
                    f"{name} would expose {sample_name}: {taken}* names are taken by loglens's own metrics "
                    "and its process, platform and GC collectors",
                )
        return name

    def _family(self, metric: MetricIn, name: str, label_names: tuple[str, ...], now: float) -> _Family:
        """The registered family ``name``, or a new one not registered until its first series is applied."""
        family = self._families.get(name)
        if family is not None:
            conflict = _conflict(family, metric, label_names)
            if conflict is None:
                return family
            if self._is_live(family, now):
                raise Rejected(*conflict)
            self._unregister(family)
        family = _new_family(metric, name, label_names)
        for sample_name in family.sample_names:
            owner = self._families.get(self._claims.get(sample_name, ""))
            if owner is None or owner.name == name:
                continue
            if self._is_live(owner, now):
                raise Rejected(
                    "name",
                    f"{name} would expose {sample_name}, which {owner.metric_type} {owner.name} exposes",
                )
            self._unregister(owner)
        return family

    def _is_live(self, family: _Family, now: float) -> bool:
        return any(not self._idle(series, now) for series in family.series.values())

    def _check_limits(self, family: _Family, key: tuple[str, ...]) -> None:
        per_metric = self._config.max_series_per_metric
        if len(family.series) >= per_metric:
            raise Rejected(
                "labels",
                f"{family.name} holds its limit of {per_metric} series (push.max_series_per_metric); "
                "new series are refused until idle ones expire",
            )
        if self._series >= self._config.max_series:
            raise Rejected(
                "labels",
                f"loglens holds its limit of {self._config.max_series} pushed series (push.max_series); "
                "new series are refused until idle ones expire",
            )
        budget = self._config.max_label_bytes
        if self._label_bytes + family.label_bytes(key) > budget:
            raise Rejected(
                "labels",
                f"pushed series' labels hold their budget of {budget} bytes (push.max_label_bytes); "
                "new series are refused until idle ones expire",
            )

    def _new_series(self, family: _Family, kind: str) -> Scalar | Distribution:
        if family.metric_type in ("counter", "gauge"):
            return Scalar(kind)
        if family.metric_type == "histogram":
            return Distribution(kind, [0.0] * (len(family.bounds) + 1))
        window = Window(self._config.summary_max_observations) if kind == "observe" else None
        return Distribution(kind, [], window=window)

    def _sweep(self, now: float) -> None:
        for family in list(self._families.values()):
            for key, series in list(family.series.items()):
                if self._idle(series, now):
                    del family.series[key]
                    self._series -= 1
                    self._label_bytes -= family.label_bytes(key)
            if not family.series:
                self._unregister(family)
        self._next_sweep = now + min(self._config.ttl_seconds / 10, 5.0)

    def _drop(self, name: str, key: tuple[str, ...]) -> None:
        family = self._families.get(name)
        if family is None or key not in family.series:
            return
        del family.series[key]
        self._series -= 1
        self._label_bytes -= family.label_bytes(key)
        if not family.series:
            self._unregister(family)

    def _unregister(self, family: _Family) -> None:
        del self._families[family.name]
        self._series -= len(family.series)
        self._label_bytes -= sum(family.label_bytes(key) for key in family.series)
        for sample_name in family.sample_names:
            if self._claims.get(sample_name) == family.name:
                del self._claims[sample_name]


def _kind(metric: MetricIn, batch_mode: Mode) -> str:
    """How a value adds to its series: increment, cumulative, observe (summaries) or set (gauges)."""
    if metric.metric_type == "gauge":
        return "set"
    if isinstance(metric.value, SampleValue) and metric.metric_type == "histogram":
        return "increment"  # an observation adds to the buckets like a pre-aggregated increment
    if isinstance(metric.value, SampleValue) and metric.metric_type == "summary":
        return "observe"
    return metric.mode or batch_mode


def _wanted_shape(metric: MetricIn) -> tuple[float, ...] | None:
    """The bucket bounds or quantiles a metric asks for, None when it takes the registered ones."""
    if isinstance(metric.value, HistogramValue):
        return metric.value.bounds
    if isinstance(metric.value, SummaryValue):
        return tuple(q for q, _ in metric.value.pairs)
    chosen = metric.buckets if metric.metric_type == "histogram" else metric.quantiles
    return None if chosen is None else tuple(sorted(chosen))


def _conflict(family: _Family, metric: MetricIn, label_names: tuple[str, ...]) -> tuple[str, str] | None:
    if family.metric_type != metric.metric_type:
        return "metric_type", f"{family.name} is already a {family.metric_type}, not a {metric.metric_type}"
    if family.label_names != label_names:
        return "labels", f"{family.name} has label names {list(family.label_names)}, not {list(label_names)}"
    if family.metric_type in ("counter", "gauge"):
        return None
    wanted = _wanted_shape(metric)
    if family.metric_type == "histogram" and wanted is not None and wanted != family.bounds:
        return "buckets", f"{family.name} has bucket bounds {list(family.bounds)}, not {list(wanted)}"
    if family.metric_type == "summary" and wanted is not None and wanted != family.quantiles:
        return "quantiles", f"{family.name} has quantiles {list(family.quantiles)}, not {list(wanted)}"
    return None


def _new_family(metric: MetricIn, name: str, label_names: tuple[str, ...]) -> _Family:
    family = _Family(name, metric.metric_type, label_names, metric.help)
    wanted = _wanted_shape(metric)
    if metric.metric_type == "histogram":
        family.bounds = DEFAULT_BUCKETS if wanted is None else wanted
    elif metric.metric_type == "summary":
        family.quantiles = DEFAULT_QUANTILES if wanted is None else wanted
    return family


def _view(key: tuple[str, ...], series: Scalar | Distribution, window_start: float) -> SeriesView:
    if isinstance(series, Scalar):
        return SeriesView(key, value=series.value)
    return SeriesView(
        key,
        counts=tuple(series.counts),
        sum=series.sum,
        count=series.count,
        quantile_values=series.quantile_values,
        observations=None if series.window is None else series.window.since(window_start),
    )
