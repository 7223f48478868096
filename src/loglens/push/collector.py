"""Expose pushed metrics on ``/metrics``: a prometheus_client collector reading the store at scrape time."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from loglens.push.store import FamilyView, PushStore, SeriesView


class PushCollector(Collector):
    """Turns a :class:`PushStore` snapshot into metric families; a scrape never changes the store.

    Pushed metrics carry the ``source`` label first, then their own labels. loglens's own figures:
    ``loglens_push_series`` and ``loglens_push_metrics_total{outcome}``.
    """

    def __init__(self, store: PushStore) -> None:
        self._store = store

    def describe(self) -> list[Metric]:
        """Nothing up front: the pushed names are only known at scrape time."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield every live pushed metric, then loglens's figures about pushes."""
        snapshot = self._store.snapshot()
        for family in snapshot.families:
            yield _metric(family)
        yield GaugeMetricFamily(
            "loglens_push_series", "Pushed series currently exposed.", value=snapshot.series
        )
        outcomes = CounterMetricFamily(
            "loglens_push_metrics", "Pushed metrics, by outcome (accepted or rejected).", labels=["outcome"]
        )
        outcomes.add_metric(["accepted"], snapshot.accepted)
        outcomes.add_metric(["rejected"], snapshot.rejected)
        yield outcomes


def _metric(family: FamilyView) -> Metric:
    label_names = ["source", *family.label_names]
    if family.metric_type == "counter":
        counter = CounterMetricFamily(family.name, family.help, labels=label_names)
        for series in family.series:
            counter.add_metric(series.labels, series.value)
        return counter
    if family.metric_type == "gauge":
        gauge = GaugeMetricFamily(family.name, family.help, labels=label_names)
        for series in family.series:
            gauge.add_metric(series.labels, series.value)
        return gauge
    if family.metric_type == "histogram":
        histogram = HistogramMetricFamily(family.name, family.help, labels=label_names)
        les = [*(floatToGoString(bound) for bound in family.bounds), "+Inf"]
        for series in family.series:
            histogram.add_metric(series.labels, list(zip(les, series.counts, strict=True)), series.sum)
        return histogram
    # SummaryMetricFamily cannot carry quantiles, so the samples are added one by one.
    summary = Metric(family.name, family.help, "summary")
    for series in family.series:
        labels = dict(zip(label_names, series.labels, strict=True))
        for quantile, value in zip(family.quantiles, _quantile_values(family, series), strict=True):
            summary.add_sample(family.name, {**labels, "quantile": floatToGoString(quantile)}, value)
        summary.add_sample(family.name + "_sum", labels, series.sum)
        summary.add_sample(family.name + "_count", labels, series.count)
    return summary


def _quantile_values(family: FamilyView, series: SeriesView) -> tuple[float, ...]:
    """Pre-aggregated values as pushed, or quantiles of the window's observations (NaN when it is empty)."""
    if series.observations is None:
        return series.quantile_values
    if not family.quantiles:
        return ()
    if series.observations.size == 0:
        return tuple(math.nan for _ in family.quantiles)
    return tuple(float(v) for v in np.quantile(series.observations, family.quantiles))
