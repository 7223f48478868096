"""``/metrics`` of the ingest endpoints and their spool, and of the syslog listeners."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from loglens.ingest.endpoint import IngestStats
from loglens.ingest.spool import Spool
from loglens.ingest.syslog_server import SyslogListeners


class IngestCollector(Collector):
    """Requests by endpoint and status, lines accepted and refused by source, and the spool."""

    def __init__(self, stats: IngestStats, spool: Spool) -> None:
        self.stats = stats
        self.spool = spool

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "loglens_ingest_requests", "Ingest requests answered, by endpoint and HTTP status.",
            labels=["endpoint", "code"],
        )  # fmt: skip
        for (endpoint, code), count in sorted(self.stats.requests.items()):
            requests.add_metric([endpoint, str(code)], count)
        yield requests
        accepted = CounterMetricFamily(
            "loglens_ingest_lines",
            "Lines taken by the ingest endpoints (durable in the spool).",
            labels=["source"],
        )
        rejected = CounterMetricFamily(
            "loglens_ingest_rejected",
            "Items of ingest requests refused (not a line, too long).",
            labels=["source"],
        )
        for source, count in sorted(self.stats.accepted.items()):
            accepted.add_metric([source], count)
        for source, count in sorted(self.stats.rejected.items()):
            rejected.add_metric([source], count)
        yield accepted
        yield rejected
        yield GaugeMetricFamily("loglens_ingest_spool_bytes", "Bytes in the ingest spool's files.",
                                value=self.spool.size())  # fmt: skip
        yield CounterMetricFamily(
            "loglens_ingest_spool_commits", "Spool writes fsynced (each covers every request waiting).",
            value=self.spool.commits,
        )  # fmt: skip


class SyslogCollector(Collector):
    """The syslog listeners: messages spooled and dropped, by transport and reason, and connections."""

    def __init__(self, listeners: SyslogListeners) -> None:
        self.listeners = listeners

    def collect(self) -> Iterator[Metric]:
        self.listeners.read_kernel_drops()
        stats = self.listeners.stats
        messages = CounterMetricFamily(
            "loglens_syslog_messages", "Syslog messages durable in the spool, by transport.",
            labels=["transport"],
        )  # fmt: skip
        for transport, count in sorted(stats.messages.items()):
            messages.add_metric([transport], count)
        yield messages
        dropped = CounterMetricFamily(
            "loglens_syslog_dropped",
            "Syslog messages not taken, by transport and reason (receive_buffer: dropped by the kernel).",
            labels=["transport", "reason"],
        )
        for (transport, reason), count in sorted(stats.dropped.items()):
            dropped.add_metric([transport, reason], count)
        if stats.kernel_drops:
            dropped.add_metric(["udp", "receive_buffer"], sum(stats.kernel_drops.values()))
        yield dropped
        yield GaugeMetricFamily(
            "loglens_syslog_connections", "Syslog TCP connections open.", value=stats.connections
        )
