"""The archive's figures, read from the sink at scrape time.

Counters: lines and bytes archived, segments written (closed), uploaded (stored by the backend: uploaded
to S3 or moved into the archive folder) and expired, failed attempts to store one. Gauges: open and
pending segments and bytes, when the oldest pending segment closed, and the last upload's lag.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.archive.sink import ArchiveSink


class ArchiveCollector(Collector):
    """Exposes one :class:`ArchiveSink`."""

    def __init__(self, sink: ArchiveSink) -> None:
        self.sink = sink

    def collect(self) -> Iterator[Metric]:
        """Yield one family per figure."""
        report = self.sink.report()
        counts, pending = report.counts, report.pending
        yield CounterMetricFamily(
            "loglens_archive_lines", "Lines appended to archive segments.", value=counts.lines
        )
        yield CounterMetricFamily(
            "loglens_archive_bytes", "Compressed bytes appended to archive segments.", value=counts.bytes
        )
        yield CounterMetricFamily(
            "loglens_archive_uncompressed_bytes",
            "Bytes of the archived lines (newlines included) before compression.",
            value=counts.raw_bytes,
        )
        yield CounterMetricFamily(
            "loglens_archive_segments_written", "Archive segments closed, complete, in the spool.",
            value=counts.segments,
        )  # fmt: skip
        yield CounterMetricFamily(
            "loglens_archive_segments_uploaded",
            "Archive segments stored by the backend (uploaded to S3, or moved into the archive folder).",
            value=report.stored,
        )
        yield CounterMetricFamily(
            "loglens_archive_upload_failures",
            "Failed attempts to store an archive segment (each is retried with backoff).",
            value=report.failures,
        )
        yield CounterMetricFamily(
            "loglens_archive_segments_expired", "Archive segments deleted as older than the retention.",
            value=report.expired,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "loglens_archive_open_segments", "Archive segments being written.", value=report.open_segments
        )
        yield GaugeMetricFamily(
            "loglens_archive_pending_segments",
            "Closed archive segments not stored yet (waiting for a checkpoint, or for the backend).",
            value=pending.segments,
        )
        yield GaugeMetricFamily(
            "loglens_archive_pending_bytes", "Bytes of the closed archive segments not stored yet.",
            value=pending.bytes,
        )  # fmt: skip
        if pending.oldest is not None:
            yield GaugeMetricFamily(
                "loglens_archive_oldest_pending_timestamp_seconds",
                "When the oldest archive segment not stored yet closed.",
                value=pending.oldest,
            )
        if report.last_lag is not None:
            yield GaugeMetricFamily(
                "loglens_archive_upload_lag_seconds",
                "Seconds from closing to stored, of the last archive segment stored.",
                value=report.last_lag,
            )
