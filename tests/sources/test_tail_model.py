"""Model-based test of file following: random sequences of writes, rotations, truncations, restarts and
kills, checked against a model that knows how many complete lines were written to each log. The logs
are followed through a glob that does not match rotated names, and, in a second run, as a whole folder
(rotated files and copytruncate copies then match too, and must not be counted twice).

The guarantee checked (also in docs/run.md): every complete line written to a followed log is counted
exactly once in ``loglens_lines_total``, across rename, copytruncate and symlink rotation, restarts and
kills, provided that

- loglens checkpointed each generation of a file before it is rotated away (at most one rotation per
  checkpoint: the agent checkpoints every second), with at least 64 bytes in it for copytruncate, whose
  copy is recognized by its first bytes;
- rotated files stay uncompressed in their folder while loglens drains them (``rotate_wait``);
- data destroyed by a plain truncation or a deletion was read and checkpointed before (nothing can
  count lines that no longer exist anywhere).

A partial last line is counted once its newline is written; a partial line abandoned in a rotated file
is never counted. The rules below make each operation meet these conditions first (``_make_safe``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sources.tail_helpers import ROTATE_WAIT, Harness, append, line

FINGERPRINT_MINIMUM = 64
REGULAR = ("a.log", "b.log")
LINK = "s.log"


@dataclass
class Rotated:
    """A file rotated away that its writer may still write to for a moment."""

    path: Path
    at: float
    partial: str | None


@dataclass
class Log:
    """What the model knows of one followed log."""

    written: int = 0
    partial: str | None = None  # the rest of a line written without its newline
    generation: int = 0
    seen: tuple[int, bool] | None = None  # (generation, at least 64 bytes) at loglens's last poll
    saved: tuple[int, bool] | None = None  # the same at the last checkpoint
    rotated: list[Rotated] = field(default_factory=list)


class TailMachine(RuleBasedStateMachine):
    """Two regular logs and one symbolic link, followed through the glob ``*.log``."""

    spec = "*.log"

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="loglens-model-"))
        self.logs, self.targets = self.root / "logs", self.root / "targets"
        self.logs.mkdir()
        self.targets.mkdir()
        self.serial = 0
        self.model = {name: Log() for name in (*REGULAR, LINK)}
        (self.targets / "s-0").touch()
        os.symlink(self.targets / "s-0", self.logs / LINK)
        self.tail = Harness(self.logs, self.spec if self.spec != "." else str(self.logs))
        self._poll()
        self._checkpoint()  # as the agent does after its first poll

    def teardown(self) -> None:
        try:
            self._poll()
            self._check_exact()
        finally:
            self.tail.close()
            shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------------

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _text(self, name: str, count: int) -> str:
        return "".join(line(self._next(), name) + "\n" for _ in range(count))

    def _write(self, name: str, path: Path, log_or_rotated: Log | Rotated, count: int) -> None:
        """Finish the pending partial line of ``path``, then write ``count`` lines."""
        text = ""
        if log_or_rotated.partial is not None:
            text, log_or_rotated.partial = log_or_rotated.partial + "\n", None
            self.model[name].written += 1
        append(path, text + self._text(name, count))
        self.model[name].written += count

    def _path(self, name: str) -> Path:
        return self.logs / name

    def _poll(self) -> None:
        self.tail.poll()
        for name, log in self.model.items():
            path = self._path(name)
            log.seen = (log.generation, path.stat().st_size >= FINGERPRINT_MINIMUM) if path.exists() else None

    def _checkpoint(self) -> None:
        self.tail.checkpoint()
        for log in self.model.values():
            log.saved = log.seen

    def _make_safe(self, name: str, need_bytes: bool = False) -> None:
        """Poll and checkpoint unless the last checkpoint knows the current generation (with 64 bytes)."""
        log = self.model[name]
        if need_bytes and self._path(name).stat().st_size < FINGERPRINT_MINIMUM:
            self._write(name, self._path(name), log, 1)
        saved = log.saved
        if saved is None or saved[0] != log.generation or (need_bytes and not saved[1]):
            self._poll()
            self._checkpoint()

    def _check_exact(self) -> None:
        for name, log in self.model.items():
            assert self.tail.lines(name) == log.written, (name, self.tail.lines(name), log.written)
        assert self._all_lines() == sum(log.written for log in self.model.values()), self.tail.totals.sources

    def _all_lines(self) -> int:
        """Lines under any source label (a copy counted under its own name would show here)."""
        return sum(counters.lines for counters in self.tail.totals.sources.values())

    # -- writers ----------------------------------------------------------------------------------

    @rule(name=st.sampled_from([*REGULAR, LINK]), count=st.integers(1, 4))
    def write(self, name: str, count: int) -> None:
        log = self.model[name]
        self._write(name, self._path(name), log, count)

    @rule(name=st.sampled_from([*REGULAR, LINK]), cut=st.integers(1, 60))
    def write_partial(self, name: str, cut: int) -> None:
        log = self.model[name]
        if log.partial is None:
            text = line(self._next(), name)
            append(self._path(name), text[:cut])
            log.partial = text[cut:]

    @rule(name=st.sampled_from([*REGULAR, LINK]), pick=st.integers(0, 3), count=st.integers(1, 3))
    def write_late(self, name: str, pick: int, count: int) -> None:
        """The writer has not reopened yet: lines go to a file just rotated away."""
        recent = [r for r in self.model[name].rotated if self.tail.clock.now() - r.at < ROTATE_WAIT]
        if recent:
            rotated = recent[pick % len(recent)]
            self._write(name, rotated.path, rotated, count)

    # -- rotations --------------------------------------------------------------------------------

    @rule(name=st.sampled_from(REGULAR), unread=st.integers(0, 3))
    def rotate_rename(self, name: str, unread: int) -> None:
        path, log = self._path(name), self.model[name]
        if not path.exists():
            return
        self._make_safe(name)
        self._write(name, path, log, unread)  # written just before the rotation, not read yet
        moved = path.with_name(f"{name}.{self._next()}")
        os.rename(path, moved)
        log.rotated.append(Rotated(moved, self.tail.clock.now(), log.partial))
        log.partial, log.generation = None, log.generation + 1

    @rule(name=st.sampled_from(REGULAR), unread=st.integers(0, 3), poll_between=st.booleans())
    def rotate_copytruncate(self, name: str, unread: int, poll_between: bool) -> None:
        path, log = self._path(name), self.model[name]
        if not path.exists():
            return
        self._make_safe(name, need_bytes=True)
        self._write(name, path, log, unread)  # only the copy will hold these
        shutil.copyfile(path, path.with_name(f"{name}-{self._next()}"))
        if poll_between:  # loglens sees the copy before the truncation
            self._poll()
        os.truncate(path, 0)
        log.partial, log.generation = None, log.generation + 1

    @rule(count=st.integers(0, 3), unread=st.integers(0, 3))
    def rotate_symlink(self, count: int, unread: int) -> None:
        log = self.model[LINK]
        self._make_safe(LINK)
        self._write(LINK, self._path(LINK), log, unread)
        old = Path(os.readlink(self._path(LINK)))
        target = self.targets / f"s-{self._next()}"
        target.touch()
        self._write(LINK, target, Log(), count)
        os.symlink(target, self.logs / "link.tmp")
        os.replace(self.logs / "link.tmp", self._path(LINK))
        log.rotated.append(Rotated(old, self.tail.clock.now(), log.partial))
        log.partial, log.generation = None, log.generation + 1

    @rule(name=st.sampled_from(REGULAR))
    def truncate(self, name: str) -> None:
        """A plain truncation destroys data: loglens must have read it before (see the module doc)."""
        path, log = self._path(name), self.model[name]
        if not path.exists():
            return
        self._poll()
        self._checkpoint()
        os.truncate(path, 0)
        log.partial, log.generation = None, log.generation + 1

    @rule(name=st.sampled_from(REGULAR))
    def delete(self, name: str) -> None:
        path, log = self._path(name), self.model[name]
        if not path.exists():
            return
        self._poll()
        self._checkpoint()
        path.unlink()
        log.partial, log.generation = None, log.generation + 1

    # -- loglens ----------------------------------------------------------------------------------

    @rule()
    def poll(self) -> None:
        self._poll()

    @rule()
    def checkpoint(self) -> None:
        self._checkpoint()

    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0, 6.0]))
    def tick(self, seconds: float) -> None:
        self.tail.clock.advance(seconds)

    @rule()
    def restart(self) -> None:
        self._checkpoint()
        self.tail.kill()

    @rule()
    def kill(self) -> None:
        self.tail.kill()
        for log in self.model.values():
            log.seen = log.saved

    @rule()
    def catch_up(self) -> None:
        self._poll()
        self._check_exact()

    @invariant()
    def never_counted_twice(self) -> None:
        for name, log in self.model.items():
            assert self.tail.lines(name) <= log.written, (name, self.tail.lines(name), log.written)
        assert self._all_lines() <= sum(log.written for log in self.model.values()), self.tail.totals.sources


class FolderTailMachine(TailMachine):
    """The same logs followed as a folder: rotated files and copies are in the followed folder too."""

    spec = "."


SETTINGS = settings(
    max_examples=200, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TailMachine.TestCase.settings = SETTINGS
FolderTailMachine.TestCase.settings = SETTINGS
test_tail_model_glob = TailMachine.TestCase
test_tail_model_folder = FolderTailMachine.TestCase
