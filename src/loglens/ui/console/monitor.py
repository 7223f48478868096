"""The data behind ``loglens watch``: follow sources, fold batches into windows, run alerts, take snapshots.

Both views (the Textual app and ``--plain``) call :meth:`Monitor.refresh` every refresh and render the
:class:`Snapshot` it returns; they never touch the state themselves.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import polars as pl

from loglens.aggregate.insights import insights
from loglens.aggregate.totals import Totals
from loglens.aggregate.windows import Windows
from loglens.alerts.engine import AlertEngine, AlertSink, Incident
from loglens.alerts.rules import HitRateRule
from loglens.clock import Clock
from loglens.records import Batch

#: Longest a refresh keeps reading before it shows what it has (a replay shows progress).
READ_BUDGET_SECONDS = 0.5


class SourceLag(Protocol):
    """Per-source read state of a follower."""

    @property
    def lag_bytes(self) -> int:
        """Bytes written to the source and not read yet."""
        ...


class Follower(Protocol):
    """What the monitor reads from, as :class:`loglens.sources.file_tail.FileFollower` does it.

    Each :meth:`poll` folds the batches it reads into ``totals`` and hands each to ``listeners``.
    """

    totals: Totals
    listeners: list[Callable[[Batch], None]]

    def poll(self) -> bool:
        """Read what is new; True when a source has more than one poll's budget waiting."""
        ...

    def sources(self) -> Sequence[SourceLag]:
        """Per-source read state."""
        ...


@dataclass(frozen=True)
class WatchOptions:
    """The knobs of ``loglens watch``."""

    timewindow: int = 10
    alertwindow: int = 120
    threshold: float = 10.0
    section_limit: int = 8
    incident_limit: int = 3
    lateness_seconds: float = 120.0


class EventClock:
    """The logs' own time: the newest event second, running on with the wall clock while no newer line comes.

    Replaying old logs (``--from-start``), this makes windows and alerts follow the logs, so a past incident
    fires where it did; after the last line, time flows as it would live and alerts recover.
    """

    def __init__(self, windows: Windows, wall: Clock) -> None:
        self.windows = windows
        self.wall = wall
        self._mark: int | None = None
        self._since = 0.0

    def now(self) -> float:
        """The watermark plus the wall time since it last moved (the wall clock before any line)."""
        wall = self.wall.now()
        mark = self.windows.watermark
        if mark is None:
            return wall
        if mark != self._mark:
            self._mark, self._since = mark, wall
        return mark + (wall - self._since)

    def sleep(self, seconds: float) -> None:
        """Wait on the wall clock."""
        self.wall.sleep(seconds)


@dataclass(frozen=True)
class Snapshot:
    """Everything one refresh shows."""

    now: int
    options: WatchOptions
    window: dict[str, Any]  # :func:`loglens.aggregate.insights.insights` of the last ``timewindow`` seconds
    rate_series: list[int]  # hits per second over the alert window, oldest first
    alert_value: float  # the high-traffic rate at ``now``
    firing: bool
    alert_message: str | None  # the last fire or recover message
    incidents: list[Incident]  # newest first
    lines: int
    parse_errors: Counter[str]
    late_lines: int
    lag_bytes: int
    lag_seconds: float | None  # now minus the newest event second, None before any line
    alert_sink_errors: int


class Monitor:
    """Owns the windows, totals and alert engine of one ``loglens watch``.

    Args:
        follower: the sources; the monitor listens to its batches and reads its totals.
        options: windows, threshold and limits.
        clock: the wall clock.
        replay: follow the logs' own time (:class:`EventClock`) instead of the wall clock.
        sinks: alert sinks (the ``--alert-log`` file).
    """

    def __init__(
        self,
        follower: Follower,
        options: WatchOptions,
        clock: Clock,
        replay: bool = False,
        sinks: tuple[AlertSink, ...] = (),
    ) -> None:
        self.follower = follower
        self.options = options
        # Replaying, a batch is folded in time-ordered slices no longer than the lateness, so a big read
        # neither drops its older lines as late nor lets the windows evict seconds alerts have not seen.
        self.slice_seconds = max(1, int(options.lateness_seconds))
        keep = max(options.timewindow, options.alertwindow) + 2 * self.slice_seconds + 1
        self.windows = Windows(keep_seconds=keep, lateness_seconds=options.lateness_seconds, clock=clock)
        self.totals = follower.totals
        follower.listeners.append(self.ingest)
        self.replay = replay
        self.clock: Clock = EventClock(self.windows, clock) if replay else clock
        rule = HitRateRule(options.threshold, options.alertwindow)
        self.engine = AlertEngine(self.windows, [rule], self.clock, options.incident_limit, sinks)
        self._lock = threading.Lock()

    def refresh(self, section_sort: str = "hits") -> Snapshot:
        """Read what is new, evaluate alerts up to now, and return the snapshot."""
        with self._lock:
            deadline = time.monotonic() + READ_BUDGET_SECONDS
            while self.follower.poll() and time.monotonic() < deadline:
                pass
            if not self.replay or self.windows.watermark is not None:  # replayed time starts at a line
                self.engine.tick()
            return self._snapshot(section_sort)

    def snapshot(self, section_sort: str = "hits") -> Snapshot:
        """The current state without reading (a view changed its sort)."""
        with self._lock:
            return self._snapshot(section_sort)

    def ingest(self, batch: Batch) -> None:
        """Fold one batch into the windows (replaying, evaluate alerts as its event time passes)."""
        if batch.records.is_empty():
            return
        arrival = self.clock.now()
        if not self.replay:
            self.windows.add(batch.records, arrival)
            return
        for first, part in _time_slices(batch.records, int(arrival), self.slice_seconds):
            evaluated = self.engine.evaluated_at
            if evaluated is None or first - 1 > evaluated:  # the quiet seconds before this part, as live
                self.engine.advance_to(first - 1)
            self.windows.add(part, arrival)
            self.engine.advance_to(self.windows.watermark or first)

    def _snapshot(self, section_sort: str) -> Snapshot:
        now = int(self.clock.now())
        opts = self.options
        mark = self.windows.watermark
        with self.totals.lock:
            sources = list(self.totals.sources.values())
            lines = sum(s.lines for s in sources)
            errors: Counter[str] = sum((s.parse_errors for s in sources), Counter())
        return Snapshot(
            now=now,
            options=opts,
            window=insights(self.windows, opts.timewindow, now, opts.section_limit, section_sort),
            rate_series=[hits for _, hits in self.windows.hits_per_second(now - opts.alertwindow, now)],
            alert_value=self.engine.values[HitRateRule.name],
            firing=bool(self.engine.firing()),
            alert_message=self.engine.last_event.message if self.engine.last_event else None,
            incidents=[replace(incident) for incident in self.engine.recent()],
            lines=lines,
            parse_errors=errors,
            late_lines=self.windows.late,
            lag_bytes=sum(source.lag_bytes for source in self.follower.sources()),
            lag_seconds=None if mark is None else max(0.0, self.clock.now() - mark),
            alert_sink_errors=self.engine.sink_errors,
        )


def _time_slices(records: pl.DataFrame, arrival: int, span: int) -> Iterator[tuple[int, pl.DataFrame]]:
    """``(first second, records)`` in time order, each covering less than ``span`` seconds."""
    seconds = records["ts"].dt.epoch("s").fill_null(arrival)
    low, high = int(seconds.min()), int(seconds.max())  # type: ignore[arg-type]
    if high - low < span:
        yield low, records
        return
    keyed = records.with_columns(_slice=(seconds - low) // span).sort("_slice", maintain_order=True)
    for part in keyed.partition_by("_slice", maintain_order=True, include_key=False):
        yield int(part["ts"].dt.epoch("s").fill_null(arrival).min()), part  # type: ignore[arg-type]
