"""loglens's figures about itself, read from the runtime at scrape time.

Per source: ``loglens_source_rotations_total``, ``loglens_source_truncations_total`` (saved in the
checkpoint, so they survive restarts), ``loglens_source_errors_total{reason}``, ``loglens_source_up``,
``loglens_source_lag_bytes``, ``loglens_source_files``. Per sink: written, failed, retried, dropped,
queued, up. Then the checkpoint's age and failures, the loop's heartbeat, late lines, the alert rules'
values, and the rate detectors' anomalies and scores (NaN while a baseline warms up). No rate gauges:
``rate()`` over the counters is how Prometheus measures rates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.anomaly.config import DETECTORS
from loglens.anomaly.patterns import PATTERN_SERIES
from loglens.anomaly.rates import REQUEST_SERIES, Score
from loglens.contracts import printable
from loglens.query import Query


class RuntimeCollector(Collector):
    """Exposes the runtime's own state; source label names match the ``loglens_*_total`` families."""

    def __init__(self, query: Query) -> None:
        self.query = query

    def collect(self) -> Iterator[Metric]:
        """Yield one family per figure."""
        yield from self._sources()
        yield from self._sinks()
        yield from self._runtime()

    def _sources(self) -> Iterator[Metric]:
        views = self.query.sources()
        totals = self.query.totals
        with totals.lock:
            labels = {name: dict(extra) for name, extra in totals.labels.items()}
        for view in views:
            labels.setdefault(view.name, dict(view.labels))
        extra = sorted({key for values in labels.values() for key in values} - {"source"})
        names = ["source", *extra]

        rotations = CounterMetricFamily(
            "loglens_source_rotations",
            "Files replaced at a source's path (rename and create, symlink switch).",
            labels=names,
        )
        truncations = CounterMetricFamily(
            "loglens_source_truncations",
            "Files of a source found shorter than read, or rewritten (truncate, copytruncate).",
            labels=names,
        )
        errors = CounterMetricFamily(
            "loglens_source_errors",
            "Failures to open, read, parse or fold a source's input, by reason; each is retried.",
            labels=[*names, "reason"],
        )
        up = GaugeMetricFamily(
            "loglens_source_up", "1 while a source reads without failing, else 0.", labels=names
        )
        lag = GaugeMetricFamily(
            "loglens_source_lag_bytes", "Bytes written to a source and not yet read.", labels=names
        )
        files = GaugeMetricFamily(
            "loglens_source_files",
            "Files of a source open: followed, or draining after rotation.",
            labels=names,
        )
        for view in views:
            extra_values = (labels.get(view.name, {}).get(key, "") for key in extra)
            values = [printable(value) for value in (view.name, *extra_values)]
            rotations.add_metric(values, view.rotations)
            truncations.add_metric(values, view.truncations)
            for why, count in sorted(view.errors.items()):
                errors.add_metric([*values, why], count)
            up.add_metric(values, 1.0 if view.healthy else 0.0)
            lag.add_metric(values, view.lag_bytes)
            files.add_metric(values, len(view.files))
        yield from (rotations, truncations, errors, up, lag, files)

    def _sinks(self) -> Iterator[Metric]:
        sinks = self.query.sinks()
        if not sinks:
            return
        written = CounterMetricFamily("loglens_sink_written_batches", "Batches a sink took.", labels=["sink"])
        failed = CounterMetricFamily(
            "loglens_sink_failures", "Failed attempts to write to a sink.", labels=["sink"]
        )
        retried = CounterMetricFamily(
            "loglens_sink_retried_batches", "Batches a sink took on a later attempt.", labels=["sink"]
        )
        dropped = CounterMetricFamily(
            "loglens_sink_dropped_batches",
            "Batches given up while a sink failed (its queue was full).",
            labels=["sink"],
        )
        queued = GaugeMetricFamily(
            "loglens_sink_queued_batches", "Batches waiting for a retry.", labels=["sink"]
        )
        up = GaugeMetricFamily(
            "loglens_sink_up", "1 while a sink writes without failing, else 0.", labels=["sink"]
        )
        for sink in sinks:
            written.add_metric([sink.name], sink.written)
            failed.add_metric([sink.name], sink.failed)
            retried.add_metric([sink.name], sink.retried)
            dropped.add_metric([sink.name], sink.dropped)
            queued.add_metric([sink.name], sink.queued)
            up.add_metric([sink.name], 1.0 if sink.healthy else 0.0)
        yield from (written, failed, retried, dropped, queued, up)

    def _runtime(self) -> Iterator[Metric]:
        checkpoint = self.query.checkpoint()
        if checkpoint.current_at is not None:
            yield GaugeMetricFamily(
                "loglens_checkpoint_timestamp_seconds",
                "Time as of which the checkpoint holds the state (saved, or found unchanged).",
                value=checkpoint.current_at,
            )
        if checkpoint.enabled:
            yield CounterMetricFamily(
                "loglens_checkpoint_failures", "Checkpoint saves that failed.", value=checkpoint.failures
            )
        last = self.query.last_loop_at()
        if last is not None:
            heartbeat = GaugeMetricFamily(
                "loglens_loop_last_run_timestamp_seconds",
                "When a loop last completed a pass.",
                labels=["loop"],
            )
            heartbeat.add_metric(["ingest"], last)
            yield heartbeat
        if self.query.keep_seconds:
            yield CounterMetricFamily(
                "loglens_late_lines", "Lines too late for the per-second windows (still in the totals).",
                value=self.query.late_lines,
            )  # fmt: skip
        alerts = self.query.alerts()
        if alerts.rules:
            firing = GaugeMetricFamily(
                "loglens_alert_firing", "1 while an alert rule fires.", labels=["rule"]
            )
            value = GaugeMetricFamily(
                "loglens_alert_value", "An alert rule's current value.", labels=["rule"]
            )
            groups = GaugeMetricFamily(
                "loglens_alerts_firing",
                "Alerts of a rule firing (one per group of a by: rule).",
                labels=["rule"],
            )
            fired = CounterMetricFamily("loglens_alerts", "Times a rule's alerts fired.", labels=["rule"])
            for rule in alerts.rules:
                firing.add_metric([rule.name], 1.0 if rule.firing else 0.0)
                value.add_metric([rule.name], rule.value)
                groups.add_metric([rule.name], rule.firing_count)
                fired.add_metric([rule.name], rule.fired_total)
            yield from (firing, value, groups, fired)
        yield from self._anomalies()

    def _anomalies(self) -> Iterator[Metric]:
        state = self.query.anomalies()
        if not state.enabled:
            return
        total = CounterMetricFamily(
            "loglens_anomalies", "Anomalies a rate detector found (a series scored past the threshold).",
            labels=["detector"],
        )  # fmt: skip
        score = GaugeMetricFamily(
            "loglens_anomaly_score",
            "A rate detector's latest score of a series (standard deviations; NaN while it warms up).",
            labels=["detector", "series"],
        )  # fmt: skip
        last = GaugeMetricFamily(
            "loglens_last_anomaly_timestamp_seconds", "Event time of a detector's newest anomaly.",
            labels=["detector"],
        )  # fmt: skip
        for detector, count in sorted(state.totals.items()):
            total.add_metric([detector], count)
        for detector, series in _scored(state.tracked, state.scores):
            current = state.scores.get((detector, series))
            score.add_metric([detector, printable(series)], current.score if current else math.nan)
        for detector, at in sorted(state.last_at.items()):
            last.add_metric([detector], at)
        yield from (total, score, last)


def _scored(tracked: Iterable[str], scores: dict[tuple[str, str], Score]) -> list[tuple[str, str]]:
    """Every (detector, series) that scores or will: the request series from the start, and each kept
    series, by each detector that applies (a template's rate by ``pattern_rate`` alone), so a series
    has its sample, NaN, until it is scored."""
    pairs = set(scores)
    for series in (*REQUEST_SERIES, *tracked):
        detectors = ("pattern_rate",) if series.startswith(PATTERN_SERIES) else DETECTORS
        pairs.update((detector, series) for detector in detectors)
    return sorted(pairs)
