"""A real ``loglens run`` archiving followed files, killed with SIGKILL while it writes, restarted:
the archive holds every line written, once, in order per source."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archive.archive_helpers import spool_files
from server.agent_helpers import AgentProcess, lines_total, wait_for

pytestmark = pytest.mark.integration

NAMES = ("api.log", "web.log", "worker.log")
CHUNKS, PER_CHUNK = 60, 200
# Checkpoints 2 s apart and long lines: a source's lines between two checkpoints pass the 4 MiB at
# which the archive writes them out, so the kill finds lines in segments that its checkpoint does not hold.
CONFIG = """
state: {checkpoint_interval_seconds: 2.0}
tail: {poll_interval_seconds: 0.02}
archive: {files: true, segment_max_bytes: 1048576, segment_max_seconds: 2}
"""


class Writer(threading.Thread):
    """Appends numbered lines (one in ten not a log line) to three logs, with partial writes."""

    def __init__(self, logs: Path) -> None:
        super().__init__(daemon=True)
        self.logs = logs
        self.written: dict[str, list[str]] = {name: [] for name in NAMES}
        self.serial = 0
        self.random = random.Random(7)

    def run(self) -> None:
        for _ in range(CHUNKS):
            for name in NAMES:
                lines = [self._line(name) for _ in range(PER_CHUNK)]
                text = "".join(f"{line}\n" for line in lines)
                cut = len(text) // 2 + 7  # two writes: the first ends inside a line
                with open(self.logs / name, "a", encoding="utf-8") as handle:
                    handle.write(text[:cut])
                    handle.flush()
                    handle.write(text[cut:])
                self.written[name] += lines
            threading.Event().wait(0.1)  # pace the stream (about 6 s) so the kill lands mid-way

    def _line(self, name: str) -> str:
        self.serial += 1
        n = self.serial
        if n % 10 == 0:
            return f"not a log line {n} of {name}"
        query = self.random.randbytes(600).hex()
        when = f"01/May/2024:12:00:{n % 60:02d} +0000"
        return f'10.0.0.{n % 250} - - [{when}] "GET /{name}/{n}?q={query} HTTP/1.1" 200 9'


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    folder.mkdir()
    yield folder


def _checkpointed_lines(state: Path) -> int:
    with sqlite3.connect(state / "checkpoint.sqlite3") as db:
        row = db.execute("SELECT value FROM state WHERE key = 'totals'").fetchone()
    return sum(counters["lines"] for counters in json.loads(row[0]).values()) if row else 0


def _uncheckpointed(state: Path) -> bool:
    """Whether the spool holds lines the checkpoint does not: a segment longer than it knew, or later."""
    with sqlite3.connect(state / "checkpoint.sqlite3") as db:
        row = db.execute("SELECT value FROM state WHERE key = 'sink:archive'").fetchone()
    if row is None:
        return False
    known = json.loads(row[0])
    lengths = {entry["segment"]: entry["bytes"] for entry in known["open"].values()}
    for path in spool_files(state):
        name = path.name.removesuffix(".open")
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # closed (renamed) or stored since it was listed
            continue
        if int(name.split("-")[0]) >= known["next"] or size > lengths.get(name, size):
            return True
    return False


def _lag(url: str) -> int:
    return sum(source["lag_bytes"] for source in httpx.get(f"{url}/api/status", timeout=5).json()["sources"])


def test_kill_9_while_archiving_then_restart_archives_every_line_once(logs: Path, tmp_path: Path) -> None:
    state, config = tmp_path / "state", tmp_path / "loglens.yaml"
    config.write_text(CONFIG)
    args = [str(logs / "*.log"), "--config", str(config), "--state-dir", str(state), "--from-start"]
    first = AgentProcess(args, tmp_path / "first.out")
    writer = Writer(logs)
    writer.start()
    total = CHUNKS * PER_CHUNK * len(NAMES)
    wait_for(
        lambda: _uncheckpointed(state) and (state / "archive").is_dir(),
        what="a stored segment, and lines in the spool that the checkpoint does not hold",
    )
    assert first.kill() == -signal.SIGKILL
    assert 0 < _checkpointed_lines(state) < total
    writer.join(timeout=120)
    assert not writer.is_alive()

    second = AgentProcess(args, tmp_path / "second.out")
    expected = {str(logs / name): float(len(lines)) for name, lines in writer.written.items()}
    seen: list[object] = []

    def caught_up() -> bool:
        seen[:] = [lines_total(second.url), _lag(second.url)]
        return seen == [expected, 0]

    wait_for(caught_up, timeout=60, what=f"lines_total == {expected} and no lag", last=seen)
    assert second.stop() == 0
    assert spool_files(state) == []  # a graceful stop closes and stores every segment

    archived = subprocess.run(
        [sys.executable, "-m", "loglens", "archive", "cat", "--config", str(config),
         "--state-dir", str(state)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    written = [line for lines in writer.written.values() for line in lines]
    assert sorted(archived) == sorted(written)
    for name, lines in writer.written.items():  # and each source's lines in the order written
        assert [line for line in archived if f"/{name}/" in line or line.endswith(f"of {name}")] == lines
