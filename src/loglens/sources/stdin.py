"""A source that reads a stream as it is written: standard input (``tail -F x | loglens watch -``).

A thread reads the stream into a bounded queue; each poll splits and parses what arrived. When the
queue is full the reader waits, so a fast writer is slowed down, never buffered without bound.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Generator
from typing import Any

from loglens.contracts import SourceStatus
from loglens.parsing import build_parser
from loglens.pipeline import LinePipeline
from loglens.records import Batch

#: Bytes per read, and reads the queue holds.
READ_BYTES = 1024 * 1024
QUEUE_READS = 16


class StreamSource:
    """Lines of an open file descriptor (a pipe, a terminal), read in a thread.

    Args:
        fd: the descriptor to read (standard input: 0).
        name: the ``source`` label.
    """

    def __init__(
        self,
        fd: int,
        name: str = "stdin",
        format: str = "auto",
        pattern: str | None = None,
        timezone: str = "UTC",
        max_line_bytes: int = 64 * 1024,
    ) -> None:
        self.id = name
        self.name = name
        self.fd = fd
        self.pipeline = LinePipeline(name, build_parser(format, pattern, timezone), max_line_bytes)
        self.backlog = False
        self.exhausted = False
        self._chunks: queue.Queue[bytes | OSError | None] = queue.Queue(QUEUE_READS)
        self._lines = 0
        self._errors: dict[str, int] = {}
        self._error: str | None = None
        self._ended = False
        self._arrived = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"loglens-read-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while data := os.read(self.fd, READ_BYTES):
                self._chunks.put(data)
                self._arrived.set()
        except OSError as exc:
            self._chunks.put(exc)
        self._chunks.put(None)
        self._arrived.set()

    def wait_readable(self, timeout: float) -> bool:
        """Wait until something arrived since the last poll (or the stream ended); False on timeout."""
        return self._ended or self._arrived.wait(timeout)

    def poll(self, now: float) -> Generator[Batch, None, None]:
        """The lines that arrived since the last poll (at the end, the last line without a newline)."""
        self._arrived.clear()
        while not self._ended:
            try:
                item = self._chunks.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, OSError):
                self._errors["io"] = self._errors.get("io", 0) + 1
                self._error = item.strerror
                continue
            chunk = self.pipeline.splitter.feed(item) if item is not None else self.pipeline.splitter.finish()
            self._ended = item is None
            batch = self.pipeline.parse_chunk(chunk)
            if batch.lines:
                self._lines += batch.lines
                yield batch
        self.backlog = not self._chunks.empty()
        self.exhausted = self._ended

    def state(self) -> dict[str, Any]:
        """Nothing: a stream cannot be read again."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""

    def status(self) -> list[SourceStatus]:
        """Lines read, read errors, the bytes of a partial line held."""
        return [
            SourceStatus(
                name=self.name,
                lines=self._lines,
                errors=dict(self._errors),
                lag_bytes=self.pipeline.pending_bytes,
                healthy=self._error is None,
                last_error=self._error,
            )
        ]

    def committed(self, state: dict[str, Any]) -> None:
        """Nothing to let go: what was read is gone."""

    def labels_of(self, name: str) -> dict[str, str]:
        """None: standard input has no extra labels."""
        return {}

    def close(self) -> None:
        """Stop reading (the descriptor belongs to the caller)."""
        self._ended = True
