"""Restarts from the checkpoint: resume at the saved offsets, whatever changed while loglens was stopped."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from loglens.sources.discovery import Fingerprint
from loglens.sources.file_state import FileState
from sources.tail_helpers import Harness, append, write_lines


def _harness(tmp_path: Path, *, from_start: bool = False) -> tuple[Harness, Path]:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return Harness(logs, "*.log", from_start=from_start), logs


def test_restart_resumes_at_the_checkpoint_and_counts_later_lines_once(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    tail.checkpoint()
    write_lines(logs / "a.log", 5, 3)
    tail.poll()  # counted in memory only
    tail.kill()
    assert tail.lines("a.log") == 5
    tail.poll()
    assert tail.lines("a.log") == 8
    tail.close()


def test_partial_line_at_the_checkpoint_is_read_whole_after_restart(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    write_lines(logs / "a.log", 0, 2)
    append(logs / "a.log", "2024-05-01T12:00:00Z INFO a line cut in th")
    tail.poll()
    tail.restart()
    append(logs / "a.log", "e middle\n")
    tail.poll()
    counters = tail.totals.sources[str(logs / "a.log")]
    assert (counters.lines, counters.parsed) == (3, 3)
    tail.close()


def test_checkpoint_wins_over_from_start(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    write_lines(logs / "a.log", 5, 2)
    tail.poll()
    tail.checkpoint()
    tail.close()
    again = Harness(logs, "*.log", from_start=True, state=tmp_path / "state")
    write_lines(logs / "a.log", 7, 1)
    again.poll()
    assert again.lines("a.log") == 3
    again.close()


def test_file_created_while_stopped_is_read_from_its_start(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    tail.restart()
    write_lines(logs / "new.log", 0, 4)
    tail.poll()
    assert tail.lines("new.log") == 4
    tail.close()


def test_new_source_after_restart_starts_at_the_end_of_its_files(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    tail.checkpoint()
    tail.close()
    write_lines(logs / "other.txt", 0, 4)
    again = Harness(logs, "*.log", "*.txt", state=tmp_path / "state")
    again.poll()
    write_lines(logs / "other.txt", 4, 1)
    again.poll()
    assert again.lines("other.txt") == 1
    again.close()


def test_rename_rotation_while_stopped_reads_the_rest_of_the_old_file(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    tail.checkpoint()
    write_lines(logs / "a.log", 5, 3)
    tail.poll()
    tail.follower.close()  # killed before the next checkpoint
    os.rename(logs / "a.log", logs / "a.log.1")
    write_lines(logs / "a.log", 100, 2)
    tail.kill()
    tail.poll()
    assert tail.lines("a.log") == 10
    assert tail.source("a.log").rotations == 1


def test_copytruncate_while_stopped_recovers_the_tail_from_the_copy(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    tail.checkpoint()
    tail.follower.close()
    write_lines(logs / "a.log", 5, 3)
    shutil.copyfile(logs / "a.log", logs / "a.log-20240501")
    os.truncate(logs / "a.log", 0)
    write_lines(logs / "a.log", 100, 2)
    tail.kill()
    tail.poll()
    assert tail.lines("a.log") == 10
    assert tail.source("a.log").truncations == 1
    tail.close()


def test_deleted_while_stopped_is_forgotten(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    write_lines(logs / "a.log", 0, 5)
    tail.poll()
    tail.restart()
    os.unlink(logs / "a.log")
    tail.poll()
    tail.checkpoint()
    assert [f.state for f in tail.saved_files()] == ["retired"]
    assert tail.lines("a.log") == 5
    tail.close()


def _restore_with(tail: Harness, extra: FileState) -> None:
    """Restart from the last checkpoint plus ``extra`` (a stale entry whose inode a new file now uses)."""
    tail.follower.close()
    tail.save_with(extra)
    tail.kill()


def _stale(path: Path, name: str, state: str) -> FileState:
    st = path.stat()
    return FileState(st.st_dev, st.st_ino, name, name, name, "gone", 0, 0, Fingerprint.of(b"").digest, state)


def test_a_checkpointed_file_whose_inode_was_reused_does_not_claim_the_new_file(tmp_path: Path) -> None:
    tail, logs = _harness(tmp_path)
    tail.poll()
    tail.checkpoint()
    write_lines(logs / "new.log", 0, 3)
    _restore_with(tail, _stale(logs / "new.log", str(logs / "old.log"), "following"))
    tail.poll()
    assert (tail.lines("new.log"), tail.lines("old.log")) == (3, 0)
    tail.close()


def test_a_copy_on_the_inode_of_a_deleted_file_is_read_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    tail = Harness(logs, str(logs))  # a folder source: the copy is followed too
    tail.poll()
    write_lines(logs / "a.log", 0, 4)
    tail.poll()
    tail.checkpoint()
    write_lines(logs / "a.log", 4, 2)  # unread when loglens stops
    shutil.copyfile(logs / "a.log", logs / "a.log-1")
    os.truncate(logs / "a.log", 0)
    _restore_with(tail, _stale(logs / "a.log-1", str(logs / "a.log"), "draining"))
    tail.poll()
    assert tail.lines("a.log") == 6
    assert tail.lines("a.log-1") == 0
    tail.close()
