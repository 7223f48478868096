"""loglens's figures about its own file sources and checkpoints, read at scrape time.

``loglens_source_rotations_total``, ``loglens_source_truncations_total`` (saved in the checkpoint, so
they survive restarts), ``loglens_source_lag_bytes``, ``loglens_source_files``,
``loglens_lines_per_second`` (lines read per second over the last 10 s) and the checkpoint's age.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loglens.aggregate.totals import Totals
from loglens.sources.file_tail import FileFollower


class SourceCollector(Collector):
    """Exposes the follower's per-source state; label names match the ``loglens_*_total`` families."""

    def __init__(
        self,
        follower: FileFollower,
        totals: Totals,
        checkpoint_time: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.follower = follower
        self.totals = totals
        self.checkpoint_time = checkpoint_time

    def collect(self) -> Iterator[Metric]:
        """Yield one family per figure, a sample per source."""
        views = self.follower.sources()
        with self.totals.lock:
            labels = {name: dict(extra) for name, extra in self.totals.labels.items()}
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
        lag = GaugeMetricFamily(
            "loglens_source_lag_bytes", "Bytes written to a source's files and not yet counted.", labels=names
        )
        files = GaugeMetricFamily(
            "loglens_source_files",
            "Files of a source open: followed, or draining after rotation.",
            labels=names,
        )
        rate = GaugeMetricFamily(
            "loglens_lines_per_second", "Lines read per second over the last 10 seconds.", labels=names
        )
        for view in views:
            values = [view.name, *(labels.get(view.name, {}).get(key, "") for key in extra)]
            rotations.add_metric(values, view.rotations)
            truncations.add_metric(values, view.truncations)
            lag.add_metric(values, view.lag_bytes)
            files.add_metric(values, len(view.files))
            rate.add_metric(values, view.lines_per_second)
        yield from (rotations, truncations, lag, files, rate)
        saved = self.checkpoint_time()
        if saved is not None:
            yield GaugeMetricFamily(
                "loglens_checkpoint_timestamp_seconds",
                "Time as of which the checkpoint holds the state (saved, or found unchanged).",
                value=saved,
            )
