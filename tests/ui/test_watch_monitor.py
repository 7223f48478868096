"""The data behind ``loglens watch`` over real files: bad input, late lines, replayed time, the alert log."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglens.aggregate.event_time import EventClock
from loglens.aggregate.windows import Windows
from loglens.alerts.notify import JsonLinesSink
from loglens.alerts.rules import format_time
from loglens.clock import FrozenClock
from loglens.records import conform
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.command import run_plain
from loglens.ui.console.monitor import Monitor, WatchOptions
from ui.console_helpers import watch_monitor

Follow = Callable[[Path, bool], FileFollower]
NOW = 1_700_000_000


def test_garbage_dash_bytes_and_out_of_order_lines(log_file: Any, follow: Follow) -> None:
    """None crashes; bytes of ``-`` count 0; lines 60 s back land in their own second."""
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(time_window=10), clock)
    monitor.refresh()  # starts following the file at its end
    log_file.hits(NOW - 1, 3, size="100")
    log_file.write("this is not a log line at all\n")
    log_file.hits(NOW - 1, 1, status=404, size="-")
    log_file.write("\x00\xff garbage \x1b[31m\n")
    log_file.hits(NOW - 61, 4, section="/old", status=500)  # 60 s out of order
    snap = monitor.refresh()
    assert snap.lines == 10
    assert snap.parse_errors == {"no_match": 2}
    assert snap.window["hits"] == 4
    assert snap.window["bytes"] == 300
    assert snap.window["errors"] == {"4xx": 1, "5xx": 0}
    assert snap.late_lines == 0
    assert monitor.runtime.windows.hits(NOW - 62, NOW - 61) == 4
    assert monitor.runtime.windows.summary(NOW - 62, NOW - 61).errors_5xx == 4
    old = monitor.runtime.windows.summary(NOW - 62, NOW - 61).sections
    assert old == {"/old": 4}
    assert "parse errors 2 (no_match 2)" in _plain(monitor)


def test_lines_too_late_for_the_windows_are_shown_not_fatal(log_file: Any, follow: Follow) -> None:
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(), clock, lateness_seconds=30)
    monitor.refresh()
    log_file.hits(NOW, 2)
    log_file.hits(NOW - 3600, 5)
    snap = monitor.refresh()
    assert (snap.lines, snap.late_lines, snap.window["hits"]) == (7, 5, 2)
    assert "too late 5" in _plain(monitor)


def test_replay_alerts_at_the_logs_own_time(tmp_path: Path, log_file: Any, follow: Follow) -> None:
    """An old log read from the start: the incident is where it happened, not at the wall-clock time."""
    start = NOW - 86_400
    for second in range(start, start + 300):
        count = 12 if start + 100 <= second < start + 130 else 1
        log_file.hits(second, count)
    alert_log = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(alert_log)
    clock = FrozenClock(NOW)
    options = WatchOptions(alert_window=10, threshold=5)
    monitor = watch_monitor(follow(log_file.path, True), options, clock, replay=True, sinks=(sink,))
    snap = monitor.refresh()
    sink.close()
    events = [orjson.loads(line) for line in alert_log.read_bytes().splitlines()]
    # rate over (s-10, s]: 1 hit/s before; reaches 5 when 4 spike seconds (12 each) are in: 4*12+6 = 54
    assert [(e["event"], e["at"]) for e in events] == [
        ("fire", format_time(start + 103)),
        ("recover", format_time(start + 136)),
    ]
    fired = f"High traffic generated an alert - hits = 5.4, triggered at {format_time(start + 103)}"
    assert events[0]["message"] == fired
    assert events[1]["incident"]["duration_seconds"] == 33
    assert events[1]["incident"]["max_value"] == 12.0
    assert snap.now == start + 299
    assert snap.lines == 270 + 30 * 12
    assert snap.late_lines == 0
    [incident] = snap.incidents
    assert (incident.start, incident.end) == (start + 103, start + 136)


def test_event_clock_follows_the_watermark_then_the_wall() -> None:
    windows = Windows()
    wall = FrozenClock(NOW)
    clock = EventClock(windows, wall)
    assert clock.now() == NOW
    windows.add(conform(pl.DataFrame({"ts": [datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC)]})), NOW)
    assert clock.now() == windows.watermark == datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC).timestamp()
    wall.advance(7)
    assert clock.now() == windows.watermark + 7


def test_plain_report_every_refresh(log_file: Any, follow: Follow) -> None:
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(alert_window=5, threshold=3), clock)
    monitor.refresh()
    log_file.hits(NOW, 20, section="/shop", status=503)
    out = io.StringIO()
    run_plain(monitor, 2, clock, out, iterations=4)
    reports = out.getvalue().split("== loglens watch")[1:]
    assert len(reports) == 4
    fired = f"High traffic generated an alert - hits = 4.0, triggered at {format_time(NOW)}"
    assert f"ALERT {fired}" in reports[0]
    assert "/shop/item" not in reports[0] and "/shop" in reports[0]
    assert "ALERT High traffic generated" in reports[2]
    assert f"High traffic alert recovered at {format_time(NOW + 5)} - hits = 0.0" in reports[3]
    assert clock.now() == NOW + 6


def _plain(monitor: Monitor) -> str:
    from loglens.ui.console.text import plain_report

    return plain_report(monitor.snapshot())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.integers(min_value=-60, max_value=0).map(lambda back: ("hit", back)),
            st.binary(max_size=80).filter(lambda b: b"\n" not in b and b.strip()).map(lambda b: ("junk", b)),
        ),
        max_size=40,
    )
)
def test_any_mix_of_junk_and_late_lines_is_counted(log_file: Any, follow: Follow, lines: list[Any]) -> None:
    """Whatever arrives, nothing crashes, every line is counted once and every hit lands in its second."""
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(time_window=61), FrozenClock(NOW))
    monitor.refresh()  # a new follower per example: it starts at the end of what earlier examples wrote
    with log_file.path.open("ab") as handle:
        for kind, value in lines:
            handle.write(log_file.line(NOW + value).encode() if kind == "hit" else value + b"\n")
    snap = monitor.refresh()
    hits = [value for kind, value in lines if kind == "hit"]
    assert snap.lines == len(lines)
    assert snap.lines - sum(snap.parse_errors.values()) >= len(hits)
    assert snap.window["hits"] == len(hits)
    for back in set(hits):
        assert monitor.runtime.windows.hits(NOW + back - 1, NOW + back) == hits.count(back)


def test_replay_ignores_a_stray_old_timestamp(log_file: Any, follow: Follow) -> None:
    """A line an hour older than the rest, read later, neither recovers nor re-fires the alert."""
    start = NOW - 86_400
    for second in range(start, start + 60):
        log_file.hits(second, 10)
    options = WatchOptions(alert_window=10, threshold=5)
    monitor = watch_monitor(follow(log_file.path, True), options, FrozenClock(NOW), replay=True)
    monitor.refresh()
    log_file.hits(start - 3600, 1)
    log_file.hits(start + 60, 10)
    snap = monitor.refresh()
    [incident] = snap.incidents
    assert (incident.start, incident.end) == (start + 4, None)
    assert snap.late_lines == 1


def test_section_orders(log_file: Any, follow: Follow) -> None:
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(section_limit=2), FrozenClock(NOW))
    monitor.refresh()
    log_file.hits(NOW, 6, section="/busy")
    log_file.hits(NOW, 1, section="/busy", status=500)
    log_file.hits(NOW, 2, section="/broken", status=404)
    log_file.hits(NOW, 3, section="/a")
    monitor.refresh()
    orders = {
        sort: [row["section"] for row in monitor.snapshot(sort).window["sections"]]
        for sort in ("hits", "errors", "error_share", "section")
    }
    assert orders == {
        "hits": ["/busy", "/a"],
        "errors": ["/broken", "/busy"],
        "error_share": ["/broken", "/busy"],
        "section": ["/a", "/broken"],
    }
