"""The checkpoint: file offsets and counter totals, saved together in one SQLite transaction.

Offsets and totals come from the same moment, so after a restart (graceful or ``kill -9``) loglens
resumes every file at the saved offset with the saved totals: the lines after the snapshot are read
again and counted once, lines before it are not read again. WAL mode keeps a save cheap and a reader
never sees half a snapshot. One process at a time may use a state folder (an exclusive ``flock``).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loglens.errors import SourceError
from loglens.sources.discovery import FileId, Fingerprint

SCHEMA_VERSION = 1
DB_NAME = "checkpoint.sqlite3"
LOCK_NAME = "lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL, real TEXT NOT NULL,
    source TEXT NOT NULL, spec TEXT NOT NULL, offset INTEGER NOT NULL,
    fp_length INTEGER NOT NULL, fp_digest TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (dev, ino)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class FileState:
    """What a checkpoint keeps of one file.

    Attributes:
        dev: device of the file.
        ino: inode of the file.
        path: path it was last seen at (for a symbolic link, the link).
        real: the path with links resolved.
        source: its ``source`` label.
        spec: key of the source spec that found it.
        offset: bytes counted (complete lines only).
        fp_length: bytes covered by the fingerprint.
        fp_digest: digest of those bytes.
        state: ``following`` (found by a source), ``draining`` (rotated away or deleted, read until idle),
            or ``retired`` (read to its end and closed; kept to resume it if it comes back).
    """

    dev: int
    ino: int
    path: str
    real: str
    source: str
    spec: str
    offset: int
    fp_length: int
    fp_digest: str
    state: str = "following"

    @property
    def id(self) -> FileId:
        """``(device, inode)``."""
        return (self.dev, self.ino)

    @property
    def live(self) -> bool:
        """True for a file still open (following or draining)."""
        return self.state != "retired"

    @property
    def fingerprint(self) -> Fingerprint:
        """The saved fingerprint."""
        return Fingerprint(self.fp_length, self.fp_digest)


@dataclass
class Snapshot:
    """Everything a checkpoint holds.

    Attributes:
        files: every followed (and recently forgotten) file.
        totals: ``Totals.to_state()``.
        sources: per source label, loglens's own counters (``rotations``, ``truncations``).
        specs: keys of the source specs seen (a spec new to the checkpoint starts its files at their end).
        saved_at: when the snapshot was taken (seconds since the epoch).
    """

    files: list[FileState] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    specs: list[str] = field(default_factory=list)
    saved_at: float = 0.0


class CheckpointStore:
    """A SQLite checkpoint database in a state folder, owned by one process."""

    def __init__(self, folder: Path) -> None:
        """Open (creating) ``folder/checkpoint.sqlite3`` and take the folder's lock.

        Raises:
            SourceError: the folder cannot be created, or another process holds it.
        """
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SourceError(f"state folder {self.folder}: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise SourceError(f"state folder {self.folder} is in use by another loglens process") from None
        self.path = self.folder / DB_NAME
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._mutex = threading.Lock()
        self.saves = 0
        self.last_saved_at: float | None = None

    def save(self, snapshot: Snapshot) -> None:
        """Replace the stored snapshot with ``snapshot``, all or nothing."""
        meta = {
            "version": str(SCHEMA_VERSION),
            "totals": json.dumps(snapshot.totals, separators=(",", ":")),
            "sources": json.dumps(snapshot.sources, separators=(",", ":")),
            "specs": json.dumps(snapshot.specs),
            "saved_at": repr(snapshot.saved_at),
        }
        rows = [
            (f.dev, f.ino, f.path, f.real, f.source, f.spec, f.offset, f.fp_length, f.fp_digest, f.state)
            for f in snapshot.files
        ]
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM files")
                self._db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.saves += 1
            self.last_saved_at = snapshot.saved_at

    def load(self) -> Snapshot | None:
        """The stored snapshot, or None when nothing was ever saved.

        Raises:
            SourceError: the database was written by a newer, incompatible loglens.
        """
        with self._mutex:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                return None
            if int(meta["version"]) != SCHEMA_VERSION:
                version = meta["version"]
                raise SourceError(f"{self.path}: checkpoint version {version} is not {SCHEMA_VERSION}")
            rows = self._db.execute(
                "SELECT dev, ino, path, real, source, spec, offset, fp_length, fp_digest, state FROM files"
            ).fetchall()
        files = [FileState(*row) for row in rows]
        self.last_saved_at = float(meta["saved_at"])
        return Snapshot(
            files=files,
            totals=json.loads(meta["totals"]),
            sources=json.loads(meta["sources"]),
            specs=json.loads(meta["specs"]),
            saved_at=float(meta["saved_at"]),
        )

    def close(self) -> None:
        """Close the database and release the folder."""
        with self._mutex:
            self._db.close()
        os.close(self._lock_fd)
