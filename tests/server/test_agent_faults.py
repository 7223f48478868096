"""Input that must not blind the agent: lines dated far ahead of its clock (polled in-process, no threads)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loglens.agent import Agent
from loglens.clock import FrozenClock
from server.agent_helpers import agent_settings

NOW = 1_700_000_000


def _line(second: float) -> str:
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'1.2.3.4 - - [{stamp}] "GET /a HTTP/1.1" 200 5\n'


def test_a_line_dated_2099_is_counted_in_the_totals_and_kept_out_of_the_windows(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    year_2099 = datetime(2099, 1, 1, tzinfo=UTC).timestamp()
    lines = [_line(NOW - 2), _line(year_2099), _line(NOW + 120), _line(NOW - 1), _line(NOW)]
    (logs / "access.log").write_text("".join(lines), encoding="utf-8")
    settings = agent_settings(logs, tmp_path / "state", limits={"future_skew_seconds": 60})
    runtime = Agent(settings, clock=FrozenClock(NOW)).runtime
    try:
        runtime.poll_once()
        assert runtime.windows is not None
        assert runtime.windows.dropped == {"future": 2}
        assert runtime.query.watermark == NOW
        doc = runtime.query.insights(10, end=NOW)
        assert (doc["hits"], doc["late_lines"], doc["future_lines"]) == (3, 0, 2)
        [counters] = runtime.totals.sources.values()
        assert (counters.lines, counters.hits) == (5, 5)
    finally:
        runtime.close()
