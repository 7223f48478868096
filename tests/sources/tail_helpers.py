"""A follower over real files in a temporary folder, driven by explicit polls and a frozen clock."""

from __future__ import annotations

import os
from pathlib import Path

from loglens.aggregate.totals import Totals
from loglens.clock import FrozenClock
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower, SourceView
from loglens.state.checkpoint import CheckpointStore

ROTATE_WAIT = 5.0


def line(n: int, tag: str = "x") -> str:
    """A distinct log line (no newline): ISO time, level, a sequence number."""
    return f"2024-05-01T12:00:{n % 60:02d}Z INFO {tag} line number {n:08d} of the test stream"


def append(path: Path, text: str) -> None:
    """Append raw text, as a logging process does (O_APPEND)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def write_lines(path: Path, start: int, count: int, tag: str = "x") -> None:
    """Append ``count`` complete lines numbered from ``start``."""
    append(path, "".join(line(n, tag) + "\n" for n in range(start, start + count)))


class Harness:
    """A :class:`FileFollower` over ``folder`` plus a checkpoint store, restartable like the agent."""

    def __init__(
        self, folder: Path, *specs: str, from_start: bool = False, state: Path | None = None
    ) -> None:
        self.folder = folder
        self.specs = [
            SourceSpec(spec if os.path.isabs(spec) else str(folder / spec), "level") for spec in specs
        ]
        self.from_start = from_start
        self.clock = FrozenClock()
        self.store = CheckpointStore(state or folder.parent / "state")
        self.follower = self._new_follower()

    def _new_follower(self) -> FileFollower:
        self.totals = Totals()
        return FileFollower(
            self.specs, self.totals, clock=self.clock, from_start=self.from_start, rotate_wait=ROTATE_WAIT
        )

    def poll(self) -> None:
        """Poll until nothing is left to read."""
        while self.follower.poll():
            pass

    def checkpoint(self) -> None:
        """Save offsets and totals, as the agent does every second."""
        self.store.save(self.follower.snapshot())

    def kill(self) -> None:
        """Lose everything in memory, then start again from the last checkpoint."""
        self.follower.close()
        self.follower = self._new_follower()
        self.resume()

    def resume(self) -> None:
        """Restore the last checkpoint of the state folder into this harness's follower."""
        snapshot = self.store.load()
        if snapshot is not None:
            self.follower.restore(snapshot)

    def restart(self) -> None:
        """Graceful restart: checkpoint, then start again."""
        self.checkpoint()
        self.kill()

    def lines(self, name: str) -> int:
        """``loglens_lines_total`` of the source labelled with the path of ``name`` in the folder."""
        counters = self.totals.sources.get(str(self.folder / name))
        return counters.lines if counters else 0

    def source(self, name: str) -> SourceView:
        """The follower's view of a source."""
        return next(v for v in self.follower.sources() if v.name == str(self.folder / name))

    def close(self) -> None:
        """Close files and the store."""
        self.follower.close()
        self.store.close()
