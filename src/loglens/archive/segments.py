"""One segment being written: gzip members appended at a known length, fsynced on demand.

Each member holds whole lines, so a segment cut back to the end of any member is a valid gzip file
(members concatenate), and cutting it back to the length a checkpoint recorded removes exactly the
lines archived after that checkpoint.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from isal import isal_zlib

from loglens.archive.attributes import comment_of, member_with_comment
from loglens.archive.names import SegmentName

#: zlib's window bits for a gzip header and trailer.
GZIP_WBITS = 31


def encode_member(
    parts: Sequence[pl.Series], level: int, attributes: Sequence[pl.Series | None] = ()
) -> tuple[bytes, int]:
    """The lines of ``parts``, each ended by a newline, as one gzip member; and their size uncompressed.

    polars writes the lines (a one-column CSV that never quotes) without a Python object per line, and
    ISA-L's deflate compresses them, releasing the GIL: it is several times faster than zlib's at a
    better ratio (bench/archive_write.py). ``attributes`` (per part, its lines' attributes or None) go
    into the member's header (:mod:`loglens.archive.attributes`) when there are any.
    """
    buffer = io.BytesIO()
    for part in parts:
        part.to_frame().write_csv(buffer, include_header=False, quote_style="never")
    data = buffer.getbuffer()
    comment = comment_of(parts, attributes) if attributes else None
    if comment is not None:
        return member_with_comment(data, level, comment), len(data)
    return isal_zlib.compress(data, level, GZIP_WBITS), len(data)


@dataclass
class SealedSegment:
    """A closed segment in the spool, waiting to be stored by the backend."""

    path: Path
    name: SegmentName
    size: int
    closed_at: float


class OpenSegment:
    """The segment a source's lines go to now, in the spool as ``{seq}-{start}-{id}.log.gz.open``.

    Attributes:
        label: the ``source`` label.
        seq: the sink's sequence number of the segment (orders segments across restarts).
        name: the segment's name in the archive.
        started: arrival time of its first line.
        size: bytes of whole members written.
        synced: bytes known to be on disk.
    """

    def __init__(self, path: Path, label: str, seq: int, name: SegmentName, started: float, size: int = 0):
        self.path = path
        self.label = label
        self.seq = seq
        self.name = name
        self.started = started
        self.size = self.synced = size
        self._file = open(path, "r+b" if size else "xb", buffering=0)  # noqa: SIM115 (held open)
        self._torn = False  # a failed write may have left bytes past ``size``

    def append(self, member: bytes) -> None:
        """Write ``member`` at the end of the whole members.

        Raises:
            OSError: it could not be written whole; the segment keeps its size, and the next append or
                sync writes over or cuts what was written of it.
        """
        view = memoryview(member)
        offset = self.size
        try:
            while view:
                written = os.pwrite(self._file.fileno(), view, offset)
                view, offset = view[written:], offset + written
        except BaseException:
            self._torn = True
            raise
        self.size += len(member)

    def sync(self) -> None:
        """Make the whole members durable (cutting what a failed write left past them)."""
        dirty = self.synced < self.size
        if self._torn:
            os.ftruncate(self._file.fileno(), self.size)
            self._torn, dirty = False, True
        if dirty:
            os.fsync(self._file.fileno())
            self.synced = self.size

    def close(self) -> None:
        """Release the file (not synced: a restart cuts back what a checkpoint does not know)."""
        self._file.close()
