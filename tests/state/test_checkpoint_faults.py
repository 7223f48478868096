"""A checkpoint whose folder or file goes away while loglens runs, and --reset-state's set_aside."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from loglens.state.checkpoint import CheckpointStore, Snapshot, set_aside
from sources.tail_helpers import Harness, write_lines


def _saved_lines(state: Path) -> int:
    """Lines of the totals in the checkpoint on disk (read without its lock, which the runtime holds)."""
    with closing(sqlite3.connect(state / "checkpoint.sqlite3")) as db:
        totals = json.loads(db.execute("SELECT value FROM state WHERE key = 'totals'").fetchone()[0])
    return sum(source["lines"] for source in totals.values())


def _delete_folder(state: Path) -> None:
    shutil.rmtree(state)


def _delete_database(state: Path) -> None:
    for path in state.glob("checkpoint.sqlite3*"):
        path.unlink()


@pytest.mark.parametrize("delete", [_delete_folder, _delete_database])
def test_a_checkpoint_deleted_while_running_is_saved_afresh_in_its_place(
    tmp_path: Path, delete: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state"
    logs.mkdir()
    write_lines(logs / "a.log", 0, 5)
    tail = Harness(logs, "*.log", from_start=True, state=state)
    tail.poll()
    tail.runtime.checkpoint()
    delete(state)
    write_lines(logs / "a.log", 5, 3)
    tail.poll()
    tail.runtime.checkpoint()
    assert tail.runtime.checkpoint_healthy
    assert _saved_lines(state) == 8
    write_lines(logs / "a.log", 8, 2)
    tail.poll()
    tail.runtime.checkpoint()
    assert _saved_lines(state) == 10
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "saving a fresh one there" in warnings[0], warnings
    tail.kill()  # the fresh checkpoint is the one a restart resumes from
    write_lines(logs / "a.log", 10, 1)
    tail.poll()
    assert tail.lines("a.log") == 11
    tail.close()


def test_set_aside_moves_the_checkpoint_and_its_wal_under_a_new_name(tmp_path: Path) -> None:
    assert set_aside(tmp_path / "state") is None
    store = CheckpointStore(tmp_path / "state")
    store.save(Snapshot(totals={}, saved_at=1.0))
    store.close()
    first = set_aside(tmp_path / "state")
    CheckpointStore(tmp_path / "state").close()
    second = set_aside(tmp_path / "state")
    assert first is not None and second is not None and first != second
    assert first.exists() and second.exists()
    assert not (tmp_path / "state" / "checkpoint.sqlite3").exists()
    fresh = CheckpointStore(tmp_path / "state")
    assert fresh.load() is None
    fresh.close()
