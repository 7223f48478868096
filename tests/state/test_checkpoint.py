"""The SQLite checkpoint: round trip, all-or-nothing saves, one owner per state folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from loglens.errors import SourceError
from loglens.state.checkpoint import CheckpointStore, FileState, Snapshot


def _snapshot(offset: int, lines: int) -> Snapshot:
    files = [
        FileState(1, 2, "/l/a.log", "/l/a.log", "/l/a.log", "/l/*.log", offset, 64, "ab" * 16),
        FileState(1, 3, "/l/b.log", "/l/b.log", "/l/b.log", "/l/*.log", 5, 5, "cd" * 16, "retired"),
    ]
    totals = {"/l/a.log": {"lines": lines, "levels": {"INFO": lines}}}
    return Snapshot(files, totals, {"/l/a.log": {"rotations": 2}}, ["/l/*.log"], 1_700_000_000.5)


def test_round_trip(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state")
    assert store.load() is None
    store.save(_snapshot(100, 7))
    store.close()
    again = CheckpointStore(tmp_path / "state")
    assert again.load() == _snapshot(100, 7)
    assert again.last_saved_at == 1_700_000_000.5
    again.close()


def test_a_save_replaces_the_previous_snapshot_whole(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(_snapshot(100, 7))
    store.save(Snapshot(files=[], totals={}, specs=[], saved_at=2.0))
    loaded = store.load()
    assert loaded is not None
    assert (loaded.files, loaded.totals, loaded.saved_at) == ([], {}, 2.0)
    store.close()


def test_a_failed_save_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(_snapshot(100, 7))
    broken = _snapshot(200, 9)
    # the last row breaks a NOT NULL constraint: the save fails after the earlier rows were written
    broken.files.append(FileState(1, 4, "/l/c.log", "/l/c.log", "/l/c.log", "/l/*.log", 1, 1, None))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.save(broken)
    assert store.load() == _snapshot(100, 7)
    store.close()


def test_the_checkpoint_is_consistent_after_the_process_dies_mid_save(tmp_path: Path) -> None:
    """A second connection (another process) sees the old or the new snapshot, never a mix."""
    store = CheckpointStore(tmp_path)
    store.save(_snapshot(100, 7))
    reader = sqlite3.connect(tmp_path / "checkpoint.sqlite3")
    store._db.execute("BEGIN IMMEDIATE")
    store._db.execute("UPDATE files SET offset = 999")
    assert reader.execute("SELECT offset FROM files WHERE ino = 2").fetchone() == (100,)
    store._db.execute("ROLLBACK")
    reader.close()
    store.close()


def test_one_process_per_state_folder(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    with pytest.raises(SourceError, match="in use by another loglens"):
        CheckpointStore(tmp_path)
    store.close()
    CheckpointStore(tmp_path).close()


def test_state_folder_that_cannot_be_created_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SourceError, match="state folder"):
        CheckpointStore(tmp_path / "file" / "state")
