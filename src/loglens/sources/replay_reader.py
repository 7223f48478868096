"""A source that reads whole inputs once (plain files, gzip files, standard input): ``loglens replay``."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO

from loglens.contracts import SourceStatus
from loglens.parsing import build_parser
from loglens.parsing.lines import LineChunk, LineSplitter
from loglens.pipeline import LinePipeline
from loglens.records import Batch
from loglens.sources.file_read import CHUNK_BYTES, input_size, open_input, raw_position, read_chunks


class ReplayReader:
    """Reads each input to its end, in order; one poll reads everything.

    Args:
        names: paths, or ``-`` for standard input (whose ``source`` label is ``stdin``).
        progress: called with the raw bytes read so far after each batch.
        chunk_bytes: bytes per read.

    Raises:
        SourceError: an input is missing or unreadable (checked for all before reading any).
        FormatError: the format or pattern is unusable.
    """

    id = "replay"
    backlog = False

    def __init__(
        self,
        names: list[str],
        format: str = "auto",
        pattern: str | None = None,
        timezone: str = "UTC",
        max_line_bytes: int = 64 * 1024,
        progress: Callable[[int], None] | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        build_parser(format, pattern, timezone)
        self.chunk_bytes = chunk_bytes
        self._parse = (format, pattern, timezone)
        self.max_line_bytes = max_line_bytes
        self.progress = progress
        self._handles = [(name, open_input(name)) for name in names]
        self._unread = {_label(name): input_size(name) or 0 for name in names}
        self._lines: dict[str, int] = {}
        self._done_bytes = 0
        self.exhausted = not self._handles

    def poll(self, now: float) -> Generator[Batch, None, None]:
        """Every batch of every input not read yet."""
        while self._handles:
            name, handle = self._handles[0]
            source = _label(name)
            pipeline = LinePipeline(source, build_parser(*self._parse), self.max_line_bytes)
            with handle:
                for batch, _ in pipeline.parse_ahead(read_ahead(handle, pipeline.splitter, self.chunk_bytes)):
                    if batch.lines == 0:
                        continue
                    self._lines[source] = self._lines.get(source, 0) + batch.lines
                    yield batch
                    if self.progress is not None:
                        self.progress(self._done_bytes + raw_position(handle))
                self._done_bytes += raw_position(handle) if name != "-" else 0
            self._handles.pop(0)
            self._unread.pop(source, None)
        self.exhausted = True

    def state(self) -> dict[str, Any]:
        """Nothing: a replay is not resumed."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""

    def status(self) -> list[SourceStatus]:
        """Lines read per input; the inputs not read yet lag by their size."""
        names = {**dict.fromkeys(self._lines), **dict.fromkeys(self._unread)}
        return [
            SourceStatus(name=name, lines=self._lines.get(name, 0), lag_bytes=self._unread.get(name, 0))
            for name in names
        ]

    def committed(self, state: dict[str, Any]) -> None:
        """Nothing to let go: a replay keeps no checkpoint."""

    def labels_of(self, name: str) -> dict[str, str]:
        """None: a replayed file has no extra labels."""
        return {}

    def close(self) -> None:
        """Close the inputs not read."""
        for _, handle in self._handles:
            handle.close()
        self._handles = []


def _label(name: str) -> str:
    """The ``source`` label of an input."""
    return "stdin" if name == "-" else name


def read_ahead(
    handle: BinaryIO, splitter: LineSplitter, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[LineChunk]:
    """Read and split the next chunk in a thread while the caller works on this one.

    polars releases the GIL, so reading and splitting overlap with parsing. The reader starts a read
    only once the caller has taken the previous chunk, so at most one chunk waits: each chunk in
    flight costs about ten times its size in memory.
    """
    chunks: queue.Queue[LineChunk | BaseException | None] = queue.Queue()
    room = threading.Semaphore(1)

    def produce() -> None:
        try:
            reads = read_chunks(handle, lambda: splitter.read_size(chunk_bytes))
            while room.acquire() and (data := next(reads, None)) is not None:
                chunks.put(splitter.feed(data))
            chunks.put(splitter.finish())
            chunks.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            chunks.put(exc)

    reader = threading.Thread(target=produce, name="loglens-read-ahead", daemon=True)
    reader.start()
    while (item := chunks.get()) is not None:
        room.release()
        if isinstance(item, BaseException):
            raise item
        yield item
    reader.join()
