"""A real ``loglens run`` process killed with SIGKILL mid-stream and restarted: every line counted once,
in the totals and in the web page's goaccess panels."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.agent_helpers import AgentProcess, lines_total, wait_for

pytestmark = pytest.mark.integration

NAMES = ("api.log", "web.log", "worker.log")
CHUNKS, PER_CHUNK = 60, 200


class Writer(threading.Thread):
    """Appends numbered lines to three logs, with partial writes, until told how far to go."""

    def __init__(self, logs: Path) -> None:
        super().__init__(daemon=True)
        self.logs = logs
        self.written: Counter[str] = Counter()
        self.serial = 0

    def run(self) -> None:
        for _ in range(CHUNKS):
            for name in NAMES:
                text = "".join(self._line(name) for _ in range(PER_CHUNK))
                cut = len(text) // 2 + 7  # two writes: the first ends inside a line
                with open(self.logs / name, "a", encoding="utf-8") as handle:
                    handle.write(text[:cut])
                    handle.flush()
                    handle.write(text[cut:])
                self.written[name] += PER_CHUNK
            threading.Event().wait(0.05)  # pace the stream (about 3 s) so the kill lands mid-way

    def _line(self, name: str) -> str:
        self.serial += 1
        n = self.serial
        when = f"01/May/2024:12:00:{n % 60:02d} +0000"
        return f'10.0.0.{n % 250} - - [{when}] "GET /{name}/{n} HTTP/1.1" 200 9\n'


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    folder.mkdir()
    yield folder


def _lag(url: str) -> int:
    return sum(source["lag_bytes"] for source in httpx.get(f"{url}/api/status", timeout=5).json()["sources"])


def test_kill_9_mid_stream_then_restart_counts_every_line_once(logs: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = [str(logs / "*.log"), "--state-dir", str(state), "--from-start"]
    first = AgentProcess(args, tmp_path / "first.out")
    writer = Writer(logs)
    writer.start()
    total = CHUNKS * PER_CHUNK * len(NAMES)
    wait_for(
        lambda: sum(lines_total(first.url).values()) >= total // 4 and lines_total_from_checkpoint(state),
        what="a quarter of the lines read, and a checkpoint with lines",
    )
    assert first.kill() == -signal.SIGKILL
    read_before_kill = sum(lines_total_from_checkpoint(state).values())

    writer.join(timeout=120)
    assert not writer.is_alive()
    # while loglens is down: a rename rotation, and lines in the new file
    os.rename(logs / "web.log", logs / "web.log.1")
    with open(logs / "web.log", "w", encoding="utf-8") as handle:
        handle.writelines(writer._line("web.log") for _ in range(25))
    writer.written["web.log"] += 25

    second = AgentProcess(args, tmp_path / "second.out")
    expected = {str(logs / name): float(count) for name, count in writer.written.items()}
    seen: list[object] = []

    def caught_up() -> bool:
        seen[:] = [lines_total(second.url), _lag(second.url)]
        return seen == [expected, 0]

    wait_for(caught_up, timeout=60, what=f"lines_total == {expected} and no lag", last=seen)
    for name, count in expected.items():  # the goaccess panels, in the checkpoint too: each line once
        panels = httpx.get(f"{second.url}/api/dashboard", params={"source": name}, timeout=5).json()["panels"]
        assert panels["status"]["200"][0] == count, name
    assert second.stop() == 0
    assert 0 < read_before_kill < total
    assert "SIGTERM received" in second.output()
    assert lines_total_from_checkpoint(state) == {k: int(v) for k, v in expected.items()}


def lines_total_from_checkpoint(state: Path) -> dict[str, int]:
    """Lines per source in the last checkpoint (read with a separate SQLite connection)."""
    import json
    import sqlite3

    with sqlite3.connect(state / "checkpoint.sqlite3") as db:
        row = db.execute("SELECT value FROM state WHERE key = 'totals'").fetchone()
    return {name: counters["lines"] for name, counters in json.loads(row[0]).items()} if row else {}
