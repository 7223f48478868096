"""The local spool: segments being written, and closed segments the backend has not stored yet.

``{spool}/{source}/{seq}-{start}-{id}.log.gz``, with ``.open`` at the end while the segment is written.
``seq`` (12 digits) is the sink's sequence number, which a checkpoint's state compares against to tell
the segments closed before it from those written after it. The spool belongs to one state folder, so
to one process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from loglens.archive.names import SUFFIX, SegmentName, new_uid, start_text
from loglens.archive.segments import OpenSegment, SealedSegment

OPEN = ".open"
#: The spool's folder in the state folder.
SPOOL_DIR = "archive-spool"
#: A file in the spool that says a checkpoint was saved while it held segments.
CHECKPOINTED = "checkpointed"
_FILE = re.compile(
    r"^(?P<seq>\d{12})-(?P<start>\d{8}T\d{6}Z)-(?P<uid>[0-9a-f]{32})\.log\.gz(?P<open>\.open)?$"
)


def spool_name(seq: int, name: SegmentName) -> str:
    """The file name of a closed segment in the spool."""
    return f"{seq:012d}-{name.start}-{name.uid}{SUFFIX}"


@dataclass(frozen=True)
class SpoolFile:
    """A segment found in the spool."""

    path: Path
    seq: int
    name: SegmentName
    open: bool
    size: int
    modified: float

    @property
    def filename(self) -> str:
        """Its name once closed (what a checkpoint's state records)."""
        return spool_name(self.seq, self.name)


class Spool:
    """The spool folder; renames and new files are made durable by :meth:`sync`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._dirty: set[Path] = set()

    def create(self, label: str, safe: str, seq: int, started: float) -> OpenSegment:
        """A new, empty segment of ``label`` (folder ``safe``) whose first line arrived at ``started``."""
        name = SegmentName(safe, start_text(started), new_uid())
        folder = self.folder / safe
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._dirty.add(self.folder)
        self._dirty.add(folder)
        return OpenSegment(folder / (spool_name(seq, name) + OPEN), label, seq, name, started)

    def seal(self, segment: OpenSegment, now: float) -> SealedSegment:
        """Close ``segment``: synced, then renamed without ``.open`` (left open if either fails)."""
        segment.sync()
        sealed = segment.path.with_name(spool_name(segment.seq, segment.name))
        os.rename(segment.path, sealed)
        segment.close()
        self._dirty.add(sealed.parent)
        return SealedSegment(sealed, segment.name, segment.size, now)

    def sync(self) -> None:
        """fsync the folders whose entries changed."""
        for folder in sorted(self._dirty, key=lambda path: len(path.parts)):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._dirty.clear()

    @property
    def checkpointed(self) -> bool:
        """Whether a checkpoint was ever saved while the spool held segments."""
        return (self.folder / CHECKPOINTED).exists()

    def mark_checkpointed(self) -> None:
        """Remember that a checkpoint was saved (made durable by :meth:`sync`)."""
        if not self.checkpointed:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / CHECKPOINTED).touch()
            self._dirty.add(self.folder)

    def scan(self) -> list[SpoolFile]:
        """Every segment in the spool, by sequence number."""
        found: list[SpoolFile] = []
        if not self.folder.is_dir():
            return found
        for folder in self.folder.iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                match = _FILE.match(entry.name)
                if match is None or not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat()
                name = SegmentName(folder.name, match["start"], match["uid"])
                path = Path(entry.path)
                found.append(
                    SpoolFile(path, int(match["seq"]), name, bool(match["open"]), st.st_size, st.st_mtime)
                )
        return sorted(found, key=lambda file: file.seq)

    def reopen(self, file: SpoolFile, label: str, length: int) -> OpenSegment:
        """``file`` as the open segment of ``label`` again, cut back to ``length`` bytes."""
        path = file.path if file.open else file.path.with_name(file.filename + OPEN)
        if not file.open:
            os.rename(file.path, path)
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, length)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._dirty.add(path.parent)
        return OpenSegment(path, label, file.seq, file.name, file.name.started, length)

    def close_file(self, file: SpoolFile) -> SealedSegment:
        """``file`` as a closed segment (renamed if it was left open)."""
        path = file.path
        if file.open:
            path = path.with_name(file.filename)
            os.rename(file.path, path)
            self._dirty.add(path.parent)
        return SealedSegment(path, file.name, file.size, file.modified)

    def remove(self, file: SpoolFile) -> None:
        """Delete ``file`` (written after the checkpoint that is restored)."""
        file.path.unlink()
        self._dirty.add(file.path.parent)
