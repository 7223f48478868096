"""One followed file: its open descriptor, committed offset, partial line and fingerprint."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from loglens.parsing.lines import LineChunk
from loglens.pipeline import LinePipeline
from loglens.records import Batch, Span
from loglens.sources.discovery import FileId, Fingerprint
from loglens.sources.file_state import FileState

#: Bytes read per ``pread``: large enough for columnar batches, small enough to bound memory.
CHUNK_BYTES = 4 * 1024 * 1024
#: How far back from the end a file is searched for a line start when it is read from its end.
_TAIL_SEARCH_BYTES = 64 * 1024


class TrackedFile:
    """A file being read through an open descriptor, so it can still be drained after a rename or delete.

    ``offset`` counts the bytes of complete lines already counted; the partial last line (held by the
    pipeline) is not part of it, so a restart from ``offset`` reads that line whole.
    """

    def __init__(
        self,
        fd: int,
        fid: FileId,
        path: str,
        real: str,
        source: str,
        spec: str,
        offset: int,
        make_pipeline: Callable[[], LinePipeline],
        now: float,
    ) -> None:
        self.fd = fd
        self.id = fid
        self.path = path
        self.real = real
        self.source = source
        self.spec = spec
        self.offset = offset
        self.start_offset = offset
        self._make_pipeline = make_pipeline
        self.pipeline = make_pipeline()
        self.size = os.fstat(fd).st_size
        self.fingerprint = Fingerprint.read(fd)
        self.matched = True
        self.active_at = now
        self.lines = 0

    @property
    def position(self) -> int:
        """Bytes read so far: the committed offset plus the held partial line."""
        return self.offset + self.pipeline.pending_bytes

    @property
    def lag(self) -> int:
        """Bytes in the file not yet counted."""
        return max(0, self.size - self.offset)

    def rewritten(self) -> bool:
        """Stat the file; True when it shrank below what was read, or its first bytes changed.

        The first bytes are compared at every poll, not only when the size changed: a file truncated and
        rewritten to its old size between two polls has the same size and, often, the same mtime.
        """
        self.size = os.fstat(self.fd).st_size
        return self.size < self.position or not self.fingerprint.matches(self.fd)

    def restart_at(self, offset: int) -> None:
        """Read again from ``offset`` with a fresh pipeline (after a truncation, or to recover a copy)."""
        self.offset = self.start_offset = offset
        self.pipeline = self._make_pipeline()
        self.fingerprint = Fingerprint.read(self.fd)

    def read(self, budget: int) -> Iterator[Batch]:
        """Read up to ``budget`` new bytes; yield a batch per chunk that completed lines.

        Chunks are read and split here and parsed in the pipeline's workers; ``offset`` moves as each
        batch is handed out, so it always counts exactly the lines the caller was given. If the read
        stops early (an error here or in the caller), lines split ahead are dropped and read again from
        ``offset`` next time.
        """
        if not self.fingerprint.complete and self.size > self.fingerprint.length:
            self.fingerprint = Fingerprint.read(self.fd)
        finished = False
        try:
            for batch, consumed in self.pipeline.parse_ahead(self._chunks(budget)):
                batch.span = Span(f"{self.id[0]}:{self.id[1]}", self.offset, self.offset + consumed)
                self.offset += consumed
                if batch.lines:
                    self.lines += batch.lines
                    yield batch
            finished = True
        finally:
            if not finished:  # an error stopped the read: drop what was split ahead, resume at offset
                self.pipeline = self._make_pipeline()

    def _chunks(self, budget: int) -> Iterator[LineChunk]:
        position = self.position
        while position < self.size and budget > 0:
            size = self.pipeline.splitter.read_size(CHUNK_BYTES)
            data = os.pread(self.fd, min(self.size - position, size, budget), position)
            if not data:
                break
            budget -= len(data)
            position += len(data)
            yield self.pipeline.splitter.feed(data)

    def state(self, retired: bool = False) -> FileState:
        """What the checkpoint keeps of this file."""
        return FileState(
            self.id[0],
            self.id[1],
            self.path,
            self.real,
            self.source,
            self.spec,
            self.offset,
            self.fingerprint.length,
            self.fingerprint.digest,
            "retired" if retired else "following" if self.matched else "draining",
        )

    def close(self) -> None:
        """Close the descriptor."""
        os.close(self.fd)


def line_start_before(fd: int, size: int) -> int:
    """Offset just after the last newline before ``size`` (0 when the file holds no newline yet).

    Used to start a file at its end without cutting a line being written in two.
    """
    if size == 0:
        return 0
    start = max(0, size - _TAIL_SEARCH_BYTES)
    tail = os.pread(fd, size - start, start)
    newline = tail.rfind(b"\n")
    if newline >= 0:
        return start + newline + 1
    return 0 if start == 0 else size


def same_bytes_before(fd: int, other: int, end: int, span: int = 4096) -> bool:
    """True when two open files hold the same ``span`` bytes just before ``end`` (a copy's last bytes)."""
    start = max(0, end - span)
    return os.pread(fd, end - start, start) == os.pread(other, end - start, start)
