"""The ``loglens_*`` metric families, read from :class:`~loglens.aggregate.totals.Totals` at scrape time.

A custom collector rather than prometheus_client's Counter objects: the totals already live in the
aggregate state (and are checkpointed with it), so exposing them is a read, and scraping never changes
a value.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.aggregate.totals import Totals
from loglens.contracts import printable
from loglens.records import ERROR_REASONS


class TotalsCollector(Collector):
    """Exposes the running totals of every source; HTTP series only for sources with access records.

    Series whose labels are known in advance start at 0 (every parse-error reason, and the duration
    histogram of an access source, empty while its log carries no request times), so that a dashboard
    panel or a ``rate()`` has a series before the first such line, and counts that line.
    """

    def __init__(self, totals: Totals) -> None:
        self.totals = totals

    def _label_names(self) -> list[str]:
        extra = sorted({key for labels in self.totals.labels.values() for key in labels} - {"source"})
        return ["source", *extra]

    def _label_values(self, source: str, names: list[str]) -> list[str]:
        extra = self.totals.labels[source]
        return [printable(source), *(printable(extra.get(name, "")) for name in names[1:])]

    def collect(self) -> Iterator[Metric]:
        """Yield one family per metric, a sample per source and label set."""
        with self.totals.lock:
            names = self._label_names()
            base = {source: self._label_values(source, names) for source in self.totals.sources}
            lines = CounterMetricFamily("loglens_lines", "Lines read, good and bad.", labels=names)
            errors = CounterMetricFamily(
                "loglens_parse_errors", "Lines skipped, by reason.", labels=[*names, "reason"]
            )
            requests = CounterMetricFamily(
                "loglens_http_requests", "Access-log requests.", labels=[*names, "method", "status"]
            )
            sections = CounterMetricFamily(
                "loglens_http_section_requests",
                "Access-log requests per section (top sections; the rest as __other__).",
                labels=[*names, "section"],
            )
            sizes = CounterMetricFamily(
                "loglens_http_response_bytes", "Response bytes of access-log requests.", labels=names
            )
            levels = CounterMetricFamily(
                "loglens_log_messages", "Application log lines by level.", labels=[*names, "level"]
            )
            durations = HistogramMetricFamily(
                "loglens_http_request_duration_seconds",
                "Request durations, when the log has them.",
                labels=names,
            )
            for source, counters in self.totals.sources.items():
                labels = base[source]
                lines.add_metric(labels, float(counters.lines))
                for reason in sorted({*ERROR_REASONS, *counters.parse_errors}):  # 0 before the first
                    errors.add_metric([*labels, reason], counters.parse_errors.get(reason, 0))
                for level, messages in sorted(counters.levels.items()):
                    levels.add_metric([*labels, level], messages)
                if not counters.access:
                    continue  # an application log: no HTTP series, not even zeros
                for (method, status), count in counters.requests.items():
                    requests.add_metric([*labels, method, status], count)
                for section, count in counters.sections.items():
                    sections.add_metric([*labels, section], count)
                sizes.add_metric(labels, counters.response_bytes)
                durations.add_metric(labels, counters.durations.cumulative(), counters.durations.total)
        yield from (lines, errors, requests, sections, sizes, levels, durations)
