"""A follower over real files in a temporary folder, driven by explicit polls and a frozen clock."""

from __future__ import annotations

import os
from pathlib import Path

from loglens.clock import FrozenClock
from loglens.config import load_settings
from loglens.contracts import SourceStatus
from loglens.runtime import Runtime
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_state import FileState
from loglens.sources.file_tail import FileFollower
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
    """A runtime with one :class:`FileFollower` over ``folder`` and a checkpoint, restartable."""

    def __init__(
        self,
        folder: Path,
        *specs: str,
        from_start: bool = False,
        state: Path | None = None,
        max_open_files: int | None = None,
        format: str = "level",
    ) -> None:
        self.folder = folder
        self.specs = [
            SourceSpec(spec if os.path.isabs(spec) else str(folder / spec), format) for spec in specs
        ]
        self.from_start = from_start
        self.max_open_files = max_open_files
        self.clock = FrozenClock()
        self.settings = load_settings(state={"dir": state or folder.parent / "state"})
        self._start()

    def _start(self) -> None:
        """A fresh follower and runtime, restored from the state folder's checkpoint."""
        self.follower = FileFollower(
            self.specs,
            clock=self.clock,
            from_start=self.from_start,
            rotate_wait=ROTATE_WAIT,
            max_open_files=self.max_open_files,
        )
        self.runtime = Runtime(self.settings, [self.follower], clock=self.clock, windows=False)
        self.totals = self.runtime.totals
        self.runtime.open()

    @property
    def store(self) -> CheckpointStore:
        """The checkpoint store of the state folder."""
        assert self.runtime.store is not None
        return self.runtime.store

    def poll(self) -> None:
        """Poll until nothing is left to read."""
        while self.runtime.poll_once():
            pass

    def checkpoint(self) -> None:
        """Save offsets and totals, as the runtime does every second."""
        self.store.save(self.runtime.snapshot())

    def saved_files(self) -> list[FileState]:
        """The files of the last checkpoint."""
        snapshot = self.store.load()
        assert snapshot is not None
        return [FileState.from_row(row) for row in snapshot.sources["files"]["files"]]

    def save_with(self, extra: FileState) -> None:
        """Add ``extra`` to the files of the last checkpoint."""
        snapshot = self.store.load()
        assert snapshot is not None
        snapshot.sources["files"]["files"].append(extra.to_row())
        self.store.save(snapshot)

    def kill(self) -> None:
        """Lose everything in memory, then start again from the last checkpoint."""
        self.runtime.close()
        self._start()

    def restart(self) -> None:
        """Graceful restart: checkpoint, then start again."""
        self.checkpoint()
        self.kill()

    def lines(self, name: str) -> int:
        """``loglens_lines_total`` of the source labelled with the path of ``name`` in the folder."""
        counters = self.totals.sources.get(str(self.folder / name))
        return counters.lines if counters else 0

    def source(self, name: str) -> SourceStatus:
        """The follower's view of a source."""
        return next(v for v in self.follower.status() if v.name == str(self.folder / name))

    def close(self) -> None:
        """Close files and the store."""
        self.runtime.close()
