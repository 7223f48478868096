"""``loglens watch`` replaying old logs: the wall clock, not the replayed time, bounds the future."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loglens.clock import FrozenClock
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.monitor import WatchOptions
from ui.console_helpers import watch_monitor

NOW = 1_700_000_000


def test_a_replay_keeps_lines_after_a_quiet_hour_and_drops_a_line_dated_2099(
    log_file: Any, follow: Callable[[Path, bool], FileFollower]
) -> None:
    start = NOW - 86_400
    log_file.hits(start, 3)
    monitor = watch_monitor(follow(log_file.path, True), WatchOptions(), FrozenClock(NOW), replay=True)
    monitor.refresh()
    log_file.hits(datetime(2099, 1, 1, tzinfo=UTC).timestamp(), 1)
    log_file.hits(start + 3600, 2)  # an hour after the replayed time: far ahead of it, not of the wall
    snap = monitor.refresh()
    assert snap.lines == 6
    assert monitor.runtime.windows.dropped == {"future": 1}
    assert monitor.runtime.windows.watermark == start + 3600
    assert monitor.runtime.windows.hits(start + 3599, start + 3600) == 2
