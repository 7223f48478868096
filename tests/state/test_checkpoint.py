"""The SQLite checkpoint: round trip, all-or-nothing saves, one owner per folder, version 1 carried over."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from loglens.errors import SourceError
from loglens.sources.file_state import FileState
from loglens.state.checkpoint import CheckpointStore, Snapshot


def _files(offset: int) -> dict[str, object]:
    rows = [
        FileState(1, 2, "/l/a.log", "/l/a.log", "/l/a.log", "/l/*.log", offset, 64, "ab" * 16),
        FileState(1, 3, "/l/b.log", "/l/b.log", "/l/b.log", "/l/*.log", 5, 5, "cd" * 16, "retired"),
    ]
    return {
        "files": [row.to_row() for row in rows],
        "counts": {"/l/a.log": {"rotations": 2}},
        "specs": ["/l/*.log"],
    }


def _snapshot(offset: int, lines: int) -> Snapshot:
    totals = {"/l/a.log": {"lines": lines, "levels": {"INFO": lines}}}
    return Snapshot({"files": _files(offset)}, {"archive": {"segment": 3}}, totals, 1_700_000_000.5)


def test_round_trip(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state")
    assert store.load() is None
    store.save(_snapshot(100, 7))
    store.close()
    again = CheckpointStore(tmp_path / "state")
    assert again.load() == _snapshot(100, 7)
    assert again.last_saved_at == 1_700_000_000.5
    again.close()


def test_file_names_that_are_not_utf8_survive_a_round_trip(tmp_path: Path) -> None:
    name = b"/l/caf\xe9.log".decode("utf-8", "surrogateescape")
    row = FileState(1, 2, name, name, name, "/l/*.log", 10, 0, "00").to_row()
    store = CheckpointStore(tmp_path)
    store.save(Snapshot({"files": {"files": [row]}}, {}, {}, 1.0))
    loaded = store.load()
    assert loaded is not None
    assert FileState.from_row(loaded.sources["files"]["files"][0]).path == name
    store.close()


def test_a_save_replaces_the_previous_snapshot_whole(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(_snapshot(100, 7))
    store.save(Snapshot(saved_at=2.0))
    assert store.load() == Snapshot(saved_at=2.0)
    store.close()


def test_a_failed_save_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(_snapshot(100, 7))
    # SQLite itself refuses one row, after the earlier rows of the same save were written
    store._db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON state WHEN NEW.key = 'source:poison' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    broken = _snapshot(200, 9)
    broken.sources["poison"] = {}
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
    store._db.execute("UPDATE state SET value = '{}' WHERE key = 'source:files'")
    value = reader.execute("SELECT value FROM state WHERE key = 'source:files'").fetchone()[0]
    assert json.loads(value) == _files(100)
    store._db.execute("ROLLBACK")
    reader.close()
    store.close()


def test_a_version_1_checkpoint_is_carried_over_and_replaced(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "checkpoint.sqlite3")
    db.executescript(
        """
        CREATE TABLE files (dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL,
            real TEXT NOT NULL, source TEXT NOT NULL, spec TEXT NOT NULL, offset INTEGER NOT NULL,
            fp_length INTEGER NOT NULL,
            fp_digest TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (dev, ino));
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )
    row = (1, 2, "/l/a.log", "/l/a.log", "/l/a.log", "/l/*.log", 100, 64, "ab" * 16, "following")
    db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    meta = {"version": "1", "totals": json.dumps({"/l/a.log": {"lines": 7}}), "sources": "{}",
            "specs": '["/l/*.log"]', "saved_at": "5.0"}  # fmt: skip
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.commit()
    db.close()
    store = CheckpointStore(tmp_path)
    loaded = store.load()
    assert loaded is not None
    (row,) = loaded.sources["files"]["files"]
    assert FileState.from_row(row).offset == 100
    assert loaded.totals == {"/l/a.log": {"lines": 7}}
    store.save(loaded)
    assert store.load() == loaded
    tables = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"state"}
    store.close()


def test_a_checkpoint_of_another_version_is_one_clear_error(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(Snapshot(saved_at=1.0))
    store._db.execute("UPDATE state SET value = '99' WHERE key = 'version'")
    with pytest.raises(SourceError, match="version 99"):
        store.load()
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
