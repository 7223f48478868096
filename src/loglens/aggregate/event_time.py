"""The logs' own time: a clock that follows the newest event second, and batches cut in time order."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from loglens.aggregate.windows import Windows
from loglens.clock import Clock


class EventClock:
    """The logs' own time: the newest event second, running on with the wall clock while no newer line comes.

    Replaying old logs (``watch --from-start``), this makes windows and alerts follow the logs, so a past
    incident fires where it did; after the last line, time flows as it would live and alerts recover.
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


def time_slices(records: pl.DataFrame, arrival: int, span: int) -> Iterator[tuple[int, pl.DataFrame]]:
    """``(first second, records)`` in time order, each covering less than ``span`` seconds."""
    seconds = records["ts"].dt.epoch("s").fill_null(arrival)
    low, high = int(seconds.min()), int(seconds.max())  # type: ignore[arg-type]
    if high - low < span:
        yield low, records
        return
    keyed = records.with_columns(_slice=(seconds - low) // span).sort("_slice", maintain_order=True)
    for part in keyed.partition_by("_slice", maintain_order=True, include_key=False):
        yield int(part["ts"].dt.epoch("s").fill_null(arrival).min()), part  # type: ignore[arg-type]
