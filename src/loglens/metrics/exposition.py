"""The user metrics as Prometheus families, and ``loglens_user_metric_dropped_total{metric}``.

A counter is exposed as ``NAME_total`` (``_total`` added when the name lacks it, as the exposition
formats require); a histogram as ``NAME_bucket{le}``, ``NAME_sum`` and ``NAME_count``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.contracts import printable
from loglens.metrics.state import MetricState, UserMetrics


def _le(bound: float) -> str:
    return str(float(bound))


def family(metric: MetricState) -> Metric:
    """One metric's family, a sample per series."""
    config = metric.config
    help_text = config.help or f"User metric {config.name}."
    labels = metric.labels
    out: Any
    if metric.type == "counter":
        out = CounterMetricFamily(config.name, help_text, labels=labels)
    elif metric.type == "gauge":
        out = GaugeMetricFamily(config.name, help_text, labels=labels)
    else:
        out = HistogramMetricFamily(config.name, help_text, labels=labels)
    for key, values in metric.series.items():
        shown = [printable(value) for value in key]
        if metric.type == "histogram":
            count, total = values[-2], values[-1]
            buckets = [(_le(b), c) for b, c in zip(metric.bounds, values, strict=False)]
            out.add_metric(shown, [*buckets, ("+Inf", count)], total)
        else:
            out.add_metric(shown, values[0])
    result: Metric = out
    return result


class UserMetricsCollector(Collector):
    """Exposes every user metric; a scrape starts the max and min gauges over."""

    def __init__(self, metrics: UserMetrics, scrape: bool = True) -> None:
        self.metrics = metrics
        self.scrape = scrape

    def collect(self) -> Iterator[Metric]:
        """Yield each metric's family, then the drop counts."""
        with self.metrics.lock:
            families = [family(metric) for metric in self.metrics]
            dropped = CounterMetricFamily(
                "loglens_user_metric_dropped",
                "Observations of user metrics left out: their label set was over the metric's max_series.",
                labels=["metric"],
            )
            for metric in self.metrics:
                dropped.add_metric([metric.config.name], metric.dropped)
            if self.scrape:
                self.metrics.scraped()
        yield from families
        yield dropped


def to_json(metrics: UserMetrics) -> list[dict[str, Any]]:
    """The user metrics as JSON-ready objects (``replay --output json``)."""
    out: list[dict[str, Any]] = []
    with metrics.lock:
        for metric in metrics:
            series = []
            for key, values in metric.series.items():
                item: dict[str, Any] = {"labels": dict(zip(metric.labels, key, strict=True))}
                if metric.type == "histogram":
                    item["buckets"] = {_le(b): c for b, c in zip(metric.bounds, values, strict=False)}
                    item["buckets"]["+Inf"] = values[-2]
                    item["count"], item["sum"] = values[-2], values[-1]
                else:
                    item["value"] = values[0]
                series.append(item)
            out.append(
                {"name": metric.config.name, "type": metric.type, "help": metric.config.help,
                 "series": series, "dropped": metric.dropped}
            )  # fmt: skip
    return out
