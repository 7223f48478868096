"""The runtime's seams: a failing source or sink never stops the others, a stop keeps the last checkpoint,
and ``watch --url`` sees what the agent's own console sees."""

from __future__ import annotations

import logging
import os
import re
import resource
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from loglens.agent import Agent
from loglens.clock import FrozenClock
from loglens.config import load_settings
from loglens.errors import SourceError
from loglens.exposition.runtime import RuntimeCollector
from loglens.failures import FIRST_BACKOFF_SECONDS
from loglens.runtime import Runtime
from loglens.server.http import HttpServer
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_state import FileState
from loglens.sources.file_tail import FileFollower
from loglens.state.checkpoint import CheckpointStore
from loglens.ui.console.monitor import RemoteMonitor, WatchOptions
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for
from support import REAL

SAMPLE = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines(keepends=True)
#: Python's re accepts it, polars' Rust regex engine does not: the source fails at its first line.
ENGINE_REJECTS = r"(?=\S)(?P<client>\S+) .*"


def _follower(logs: Path, clock: FrozenClock) -> FileFollower:
    specs = [
        SourceSpec(str(logs / "good.log"), "combined"),
        SourceSpec(str(logs / "bad.log"), "auto", ENGINE_REJECTS),
    ]
    return FileFollower(specs, clock=clock, from_start=True)


def test_a_failing_source_is_counted_backed_off_and_logged_once_while_the_others_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "good.log").write_text("".join(SAMPLE[:100]))
    (logs / "bad.log").write_text("".join(SAMPLE[:10]))
    clock = FrozenClock()
    runtime = Runtime(load_settings(), [_follower(logs, clock)], clock=clock, checkpoint=False)
    caplog.set_level(logging.WARNING, logger="loglens")
    for _ in range(5):  # within the first backoff: the bad file is not tried again
        runtime.poll_once()
    bad = next(s for s in runtime.query.sources() if s.name == str(logs / "bad.log"))
    assert bad.errors == {"parse": 1}
    assert not bad.healthy
    with (logs / "good.log").open("a") as handle:
        handle.writelines(SAMPLE[100:150])
    for _ in range(3):
        clock.advance(FIRST_BACKOFF_SECONDS * 2**3)  # past each backoff: tried again, fails again
        runtime.poll_once()
    good = next(s for s in runtime.query.sources() if s.name == str(logs / "good.log"))
    bad = next(s for s in runtime.query.sources() if s.name == str(logs / "bad.log"))
    assert runtime.totals.sources[str(logs / "good.log")].lines == 150
    assert good.healthy and good.errors == {}
    assert bad.errors == {"parse": 4}
    failed = [r for r in caplog.records if "bad.log" in r.getMessage()]
    assert len(failed) == 1, [r.getMessage() for r in failed]

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in RuntimeCollector(runtime.query).collect()
        for s in family.samples
    }
    assert (
        samples[("loglens_source_errors_total", (("reason", "parse"), ("source", str(logs / "bad.log"))))]
        == 4
    )
    assert samples[("loglens_source_up", (("source", str(logs / "bad.log")),))] == 0
    assert samples[("loglens_source_up", (("source", str(logs / "good.log")),))] == 1
    runtime.close()


def test_a_source_that_recovers_is_healthy_again_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Out of file descriptors (a real RLIMIT_NOFILE), the folder cannot be listed; once descriptors are
    free again its new file is read from its start, and the log says so twice: failing, then recovered."""
    logs = tmp_path / "logs"
    logs.mkdir()
    clock = FrozenClock()
    follower = FileFollower([SourceSpec(str(logs / "*.log"), "combined")], clock=clock)
    caplog.set_level(logging.WARNING, logger="loglens")
    runtime = Runtime(load_settings(), [follower], clock=clock, checkpoint=False)
    runtime.poll_once()
    (logs / "a.log").write_text("".join(SAMPLE[:7]))  # appears after the start: read from its start
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open(os.devnull, os.O_RDONLY)  # the next open takes the lowest free number
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
    try:
        for _ in range(3):
            runtime.poll_once()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    glob = str(logs / "*.log")
    (failing,) = runtime.query.sources()  # the folder could not be listed: the glob's own label
    assert (failing.name, failing.healthy, failing.errors) == (glob, False, {"too_many_open_files": 1})
    clock.advance(60)
    runtime.poll_once()
    statuses = {status.name: status for status in runtime.query.sources()}
    assert statuses[glob].healthy and statuses[str(logs / "a.log")].healthy
    assert runtime.totals.sources[str(logs / "a.log")].lines == 7
    assert [r.getMessage().split(" (")[0] for r in caplog.records if glob in r.getMessage()] == [
        f"listing {glob} failed",
        f"listing {glob} recovered after 1 failed attempt(s)",
    ]
    runtime.close()


def test_stop_joins_the_loop_before_closing_and_keeps_the_final_checkpoint(tmp_path: Path) -> None:
    """Stopped while a large backlog is being read, the runtime saves a checkpoint whose offset and totals
    agree, and a restart counts the rest exactly once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "a.log"
    log.write_text("".join(SAMPLE) * 20)  # 200,000 lines, 46 MiB: several polls' worth
    state = {"dir": tmp_path / "state", "checkpoint_interval_seconds": 3600}
    settings = agent_settings(logs, tmp_path / "state", state=state)
    agent = Agent(settings).start()
    wait_for(lambda: sum(lines_total(agent.url).values()) > 0, what="the first lines on /metrics")
    agent.stop()
    store = CheckpointStore(tmp_path / "state")
    snapshot = store.load()
    store.close()
    assert snapshot is not None
    (row,) = snapshot.sources["files"]["files"]
    saved = FileState.from_row(row)
    counted = snapshot.totals[str(log)]["lines"]
    assert saved.offset == sum(len(line) for line in ([*SAMPLE] * 20)[:counted])
    with Agent(settings) as again:
        wait_for(lambda: lines_total(again.url).get(str(log)) == 200_000, what="every line, once")


def test_watch_url_shows_the_agents_state_in_its_event_time(tmp_path: Path) -> None:
    """Old lines read from the start: the remote console's windows end at the newest line, as
    ``watch --from-start`` shows them, and agree with the agent's own query of that window."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("".join(SAMPLE[:3000]))
    with Agent(agent_settings(logs, tmp_path / "state")) as agent:
        wait_for(lambda: lines_total(agent.url).get(str(logs / "a.log")) == 3000, what="3000 lines")
        options = WatchOptions(time_window=600, section_limit=5)
        remote = RemoteMonitor(agent.url, options).refresh()
        query = agent.runtime.query
        latest = query.watermark
        assert latest is not None
        local = query.insights(600, 5, "hits", latest)
        series = query.hits_series(agent.settings.alert.window_seconds, latest)
    assert remote.now == latest
    assert remote.lines == 3000
    assert remote.window["hits"] == local["hits"] > 0
    assert remote.window["sections"] == local["sections"]
    assert remote.window["status"] == local["status"]
    assert remote.window["crud"] == local["crud"]
    assert remote.rate_series == [hits for _, hits in series]
    assert remote.options.threshold == agent.settings.alert.threshold


def test_watch_url_of_nothing_is_one_clear_error() -> None:
    monitor = RemoteMonitor("http://127.0.0.1:9", WatchOptions(), httpx.Client(timeout=1))
    with pytest.raises(SourceError, match=re.escape("cannot reach loglens at http://127.0.0.1:9")):
        monitor.refresh()


def test_status_readiness_and_metrics_show_a_failing_source(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "bad.log").write_text("".join(SAMPLE[:10]))
    (logs / "good.log").write_text("".join(SAMPLE[:10]))
    settings = agent_settings(logs, tmp_path / "state")
    server = HttpServer(settings)
    runtime = Runtime(settings, [_follower(logs, FrozenClock())], views=[server])
    with runtime:
        wait_for(lambda: lines_total(server.url).get(str(logs / "good.log")) == 10, what="the good file")
        status = wait_for(
            lambda: next(
                (s for s in httpx.get(f"{server.url}/api/status").json()["sources"] if s["errors"]), None
            ),
            what="the bad source's error in /api/status",
        )
        ready = httpx.get(f"{server.url}/api/ready")
        health = httpx.get(f"{server.url}/api/health")
        samples = scrape(server.url)
    assert status["source"] == str(logs / "bad.log")
    assert status["healthy"] is False and status["errors"]["parse"] >= 1
    assert ready.status_code == 503 and "bad.log" in ready.json()["problems"][0]
    assert health.status_code == 200  # alive: one failing source is not a dead process
    key = ("loglens_source_errors_total", (("reason", "parse"), ("source", str(logs / "bad.log"))))
    assert samples[key] >= 1


def test_lateness_is_judged_in_line_order_whichever_reader_took_the_line(tmp_path: Path) -> None:
    """20 lines in time order, alternating one the C reader takes (combined) and one only the regexes
    read (no protocol): with a lateness of 1 s none is late (10 were, when records came out grouped by
    reader)."""
    now = 1_700_000_000
    lines = []
    for i in range(20):
        stamp = datetime.fromtimestamp(now - 30 + i, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        if i % 2:
            lines.append(f'10.0.0.{i} - - [{stamp}] "GET /odd/{i}" 200 10\n')
        else:
            lines.append(f'10.0.0.{i} - - [{stamp}] "GET /even/{i} HTTP/1.1" 200 10 "-" "curl/8"\n')
    (tmp_path / "a.log").write_text("".join(lines))
    clock = FrozenClock(now)
    follower = FileFollower([SourceSpec(str(tmp_path / "a.log"))], clock=clock, from_start=True)
    settings = load_settings(limits={"lateness_seconds": 1})
    runtime = Runtime(settings, [follower], clock=clock, checkpoint=False)
    runtime.poll_once()
    assert runtime.query.late_lines == 0
    assert runtime.query.insights(120)["hits"] == 20
    runtime.close()


class _Interrupted(FileFollower):
    """A follower whose second poll is interrupted by Ctrl-C in the loop's thread, as polars raises it."""

    polls = 0

    def poll(self, now: float):  # type: ignore[no-untyped-def]
        self.polls += 1
        if self.polls == 2:
            raise KeyboardInterrupt
        yield from super().poll(now)


def test_ctrl_c_in_the_loop_thread_stops_the_loop_and_keeps_the_saved_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("".join(SAMPLE[:50]), encoding="utf-8")
    settings = agent_settings(logs, tmp_path / "state")
    follower = _Interrupted([SourceSpec(str(logs / "a.log"), "combined")], from_start=True)
    runtime = Runtime(settings, [follower])
    with caplog.at_level(logging.INFO, logger="loglens.runtime"):
        runtime.start()
        loop = runtime._thread
        assert loop is not None
        wait_for(lambda: follower.polls >= 2 and not loop.is_alive(), what="the loop to end")
        runtime.stop()
    assert "interrupted: stopping without a last checkpoint" in caplog.text
    saved = CheckpointStore(tmp_path / "state").load()
    assert saved is not None and saved.totals  # the first poll's checkpoint stands
