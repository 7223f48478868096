"""The checkpoint: every source's position, every sink's, and the totals, in one SQLite transaction.

Positions and totals come from the same moment, so after a restart (graceful or ``kill -9``) loglens
resumes every source where the snapshot stood: what came after it is read again and counted once,
what came before is not read again. WAL mode keeps a save cheap and a reader never sees half a
snapshot. One process at a time may use a state folder (an exclusive ``flock``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loglens.errors import SourceError, StateError

SCHEMA_VERSION = 2
DB_NAME = "checkpoint.sqlite3"
LOCK_NAME = "lock"

_SCHEMA = "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
#: What to do with a checkpoint loglens cannot use.
REMEDY = "move it aside, or run with --reset-state to start afresh"

log = logging.getLogger("loglens.state")


@dataclass
class Snapshot:
    """Everything a checkpoint holds, as JSON-ready values.

    Attributes:
        sources: per source id, what ``Source.state()`` returned.
        sinks: per sink name, what ``Sink.state()`` returned.
        totals: ``Totals.to_state()``.
        saved_at: when the snapshot was taken (seconds since the epoch).
        alerts: ``AlertEngine.to_state()`` (empty without rules).
        anomaly: ``RateDetectors.to_state()`` (empty without them).
        metrics: ``UserMetrics.to_state()`` (empty without ``metrics:`` rules).
    """

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    saved_at: float = 0.0
    alerts: dict[str, Any] = field(default_factory=dict)
    anomaly: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def same_state(self, other: Snapshot | None) -> bool:
        """True when ``other`` holds the same positions, totals, alerts, detectors and user metrics
        (whenever it was taken)."""
        mine = (self.sources, self.sinks, self.totals, self.alerts, self.anomaly, self.metrics)
        return other is not None and mine == (
            other.sources,
            other.sinks,
            other.totals,
            other.alerts,
            other.anomaly,
            other.metrics,
        )


def _dumps(value: Any) -> str:
    # ensure_ascii: file names that are not valid UTF-8 are carried as surrogate escapes, which
    # JSON keeps as \udcXX and reads back unchanged.
    return json.dumps(value, separators=(",", ":"))


class CheckpointStore:
    """A SQLite checkpoint database in a state folder, owned by one process."""

    def __init__(self, folder: Path) -> None:
        """Open (creating) ``folder/checkpoint.sqlite3``, check it is whole and writable, take the lock.

        Raises:
            StateError: the folder cannot be created or written, or the database is unusable.
            SourceError: another process holds the folder.
        """
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        self._mutex = threading.Lock()
        self.saves = 0
        self.last_saved_at: float | None = None
        self._lock_fd = _take(self.folder)
        try:
            self._db, self._identity = self._connect()
        except BaseException:
            os.close(self._lock_fd)
            raise

    def _connect(self) -> tuple[sqlite3.Connection, tuple[int, int]]:
        """The database, checked whole (``quick_check``) and writable, and the identity of its file."""
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self.unusable(f"cannot be opened ({exc})") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            check = db.execute("PRAGMA quick_check").fetchone()
            if check != ("ok",):
                raise self.unusable(f"is damaged ({check[0] if check else 'no answer to quick_check'})")
            db.execute("BEGIN IMMEDIATE")  # a write that changes nothing: a read-only file fails it
            try:
                db.execute("DELETE FROM state WHERE key = ''")
            finally:
                db.execute("ROLLBACK")
            st = os.stat(self.path)
        except sqlite3.Error as exc:
            db.close()
            raise self.unusable(f"cannot be used ({exc})") from None
        except BaseException:
            db.close()
            raise
        return db, (st.st_dev, st.st_ino)

    def unusable(self, problem: str) -> StateError:
        """The error of a checkpoint that cannot be used, saying what to do."""
        return StateError(f"checkpoint {self.path} {problem}: {REMEDY}")

    def _other_version(self, version: str | None) -> StateError:
        return self.unusable(f"was written by another loglens (version {version}, not {SCHEMA_VERSION})")

    def _lock_kept(self) -> bool:
        """Whether the lock file held is still the folder's (only the database went away)."""
        try:
            return os.path.samestat(os.fstat(self._lock_fd), os.stat(self.folder / LOCK_NAME))
        except FileNotFoundError:
            return False

    def _reopen_if_gone(self) -> None:
        """Start a fresh database when the file was deleted or replaced (the state folder removed)."""
        try:
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) == self._identity:
                return
        except FileNotFoundError:
            pass
        lock_fd = self._lock_fd if self._lock_kept() else _take(self.folder)
        try:
            db, identity = self._connect()
        except BaseException:
            if lock_fd != self._lock_fd:
                os.close(lock_fd)
            raise
        self._db.close()
        if lock_fd != self._lock_fd:
            os.close(self._lock_fd)
        self._db, self._identity, self._lock_fd = db, identity, lock_fd
        log.warning("checkpoint %s was gone (its state folder deleted?): saving a fresh one there", self.path)

    def save(self, snapshot: Snapshot) -> None:
        """Replace the stored snapshot with ``snapshot``, all or nothing."""
        rows = {
            "version": str(SCHEMA_VERSION),
            "saved_at": repr(snapshot.saved_at),
            "totals": _dumps(snapshot.totals),
            **({"alerts": _dumps(snapshot.alerts)} if snapshot.alerts else {}),
            **({"anomaly": _dumps(snapshot.anomaly)} if snapshot.anomaly else {}),
            **({"metrics": _dumps(snapshot.metrics)} if snapshot.metrics else {}),
            **{f"source:{key}": _dumps(value) for key, value in snapshot.sources.items()},
            **{f"sink:{key}": _dumps(value) for key, value in snapshot.sinks.items()},
        }
        with self._mutex:
            self._reopen_if_gone()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM state")
                self._db.execute("DROP TABLE IF EXISTS meta")  # a version 1 checkpoint, now carried over
                self._db.execute("DROP TABLE IF EXISTS files")
                self._db.executemany("INSERT INTO state VALUES (?, ?)", rows.items())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.saves += 1
            self.last_saved_at = snapshot.saved_at

    def load(self) -> Snapshot | None:
        """The stored snapshot, or None when nothing was ever saved.

        Raises:
            StateError: the database cannot be read, holds something else, or was written by another,
                incompatible loglens.
        """
        try:
            return self._load()
        except sqlite3.Error as exc:
            raise self.unusable(f"cannot be read ({exc})") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise self.unusable(f"holds no checkpoint loglens reads ({type(exc).__name__}: {exc})") from None

    def _load(self) -> Snapshot | None:
        with self._mutex:
            if self._legacy():
                return self._load_v1()
            rows = dict(self._db.execute("SELECT key, value FROM state").fetchall())
        if not rows:
            return None
        if rows.get("version") != str(SCHEMA_VERSION):
            raise self._other_version(rows.get("version"))
        snapshot = Snapshot(
            totals=json.loads(rows["totals"]),
            alerts=json.loads(rows.get("alerts", "{}")),
            anomaly=json.loads(rows.get("anomaly", "{}")),
            metrics=json.loads(rows.get("metrics", "{}")),
            saved_at=float(rows["saved_at"]),
        )
        for key, value in rows.items():
            kind, _, name = key.partition(":")
            if kind == "source":
                snapshot.sources[name] = json.loads(value)
            elif kind == "sink":
                snapshot.sinks[name] = json.loads(value)
        self.last_saved_at = snapshot.saved_at
        return snapshot

    def _legacy(self) -> bool:
        """True when the database still holds a version 1 checkpoint (tables ``files`` and ``meta``)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return "meta" in tables

    def _load_v1(self) -> Snapshot | None:
        """Read a version 1 checkpoint (file offsets in their own table) as the file source's state."""
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            return None
        if meta.get("version") != "1":
            raise self._other_version(meta.get("version"))
        files = self._db.execute(
            "SELECT dev, ino, path, real, source, spec, offset, fp_length, fp_digest, state FROM files"
        ).fetchall()
        state = {"files": [list(row) for row in files], "counts": json.loads(meta["sources"]),
                 "specs": json.loads(meta["specs"])}  # fmt: skip
        self.last_saved_at = float(meta["saved_at"])
        return Snapshot({"files": state}, {}, json.loads(meta["totals"]), saved_at=float(meta["saved_at"]))

    def close(self) -> None:
        """Close the database and release the folder."""
        with self._mutex:
            self._db.close()
        os.close(self._lock_fd)


def _take(folder: Path) -> int:
    """Create ``folder`` if needed and take its lock; the lock's descriptor.

    Raises:
        StateError: the folder cannot be created or written.
        SourceError: another process holds it.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        remedy = "make it writable, or pass another --state-dir"
        raise StateError(f"state folder {folder}: {exc.strerror}; {remedy}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SourceError(f"state folder {folder} is in use by another loglens process") from None
    return fd


def set_aside(folder: Path) -> Path | None:
    """Move the checkpoint of ``folder`` (with its ``-wal`` and ``-shm`` files) aside under a dated name,
    so that loglens starts afresh; return its new path, or None when there was none.

    Raises:
        StateError: it cannot be moved.
        SourceError: another process holds the folder.
    """
    folder = Path(folder)
    if not (folder / DB_NAME).exists():
        return None
    fd = _take(folder)
    try:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside, n = folder / f"{DB_NAME}.aside-{stamp}", 1
        while aside.exists():
            n += 1
            aside = folder / f"{DB_NAME}.aside-{stamp}-{n}"
        for suffix in ("", "-wal", "-shm"):
            if (folder / (DB_NAME + suffix)).exists():
                os.replace(folder / (DB_NAME + suffix), folder / (aside.name + suffix))
    except OSError as exc:
        raise StateError(f"cannot move {folder / DB_NAME} aside: {exc.strerror}") from None
    finally:
        os.close(fd)
    return aside
