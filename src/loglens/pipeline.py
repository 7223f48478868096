"""Bytes of one source to batches of records: split into lines, parse, count bad lines by reason."""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from loglens.failures import describe, is_fatal
from loglens.parsing.base import Parser, ParseResult, parse_batch
from loglens.parsing.detect import undecided
from loglens.parsing.lines import LineChunk, LineSplitter
from loglens.records import Batch

log = logging.getLogger("loglens.pipeline")

#: Chunks parsed at once. polars already spreads each parse over its threads, so one worker per two
#: cores: on 2 cores a second worker was no faster (replay 2.23-2.26 s against 2.27-2.37) and held
#: another chunk in flight (+5-10 MB).
PARSE_WORKERS = max(1, min(4, (os.cpu_count() or 2) // 2))
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _parse_pool() -> ThreadPoolExecutor:
    """The process's parse workers, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(PARSE_WORKERS, thread_name_prefix="loglens-parse")
        return _pool


class LinePipeline:
    """Turns the byte stream of one source into :class:`Batch` objects.

    The partial last line is held (see :class:`LineSplitter`) until its newline arrives or
    :meth:`finish` is called at end of input.
    """

    def __init__(self, source: str, parser: Parser, max_line_bytes: int = 64 * 1024) -> None:
        self.source = source
        self.parser = parser
        self.splitter = LineSplitter(max_line_bytes)
        self._unparsable_logged = False

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete last line not yet parsed (held, or dropped from a too-long line)."""
        return self.splitter.pending_bytes + self.splitter.skipped_bytes

    def parse_lines(self, lines: pl.Series) -> Batch:
        """Parse lines that arrive already split (HTTP ingest)."""
        return self.parse_chunk(LineChunk(lines, 0, 0))

    def parse_ahead(self, chunks: Iterator[LineChunk]) -> Iterator[tuple[Batch, int]]:
        """Parse ``chunks`` in the worker threads; yield each batch and the bytes its chunk consumed,
        in input order, while the caller folds the previous batch in.

        Until ``auto`` has chosen the format, chunks are parsed alone, in order, so it chooses once,
        on the first lines any format reads (a first chunk may hold no complete line); then
        :data:`PARSE_WORKERS` + 1 chunks are submitted before the caller waits for the oldest, so the
        workers keep parsing while it folds. When the caller stops early, chunks in flight are parsed
        and dropped.
        """
        in_flight: deque[tuple[Future[Batch], int]] = deque()
        try:
            for chunk in chunks:
                if undecided(self.parser):
                    yield self.parse_chunk(chunk), chunk.consumed
                    continue
                in_flight.append((_parse_pool().submit(self.parse_chunk, chunk), chunk.consumed))
                if len(in_flight) > PARSE_WORKERS:
                    future, consumed = in_flight.popleft()
                    yield future.result(), consumed
            while in_flight:
                future, consumed = in_flight.popleft()
                yield future.result(), consumed
        finally:
            for future, _ in in_flight:
                future.cancel()

    def parse_chunk(self, chunk: LineChunk) -> Batch:
        """Parse lines already cut by :attr:`splitter` (lets a reader thread split ahead)."""
        result = self._parse(chunk.lines)
        errors = result.errors
        if chunk.too_long:
            errors["too_long"] += chunk.too_long
        return Batch(self.source, result.records, len(chunk.lines) + chunk.too_long, errors, chunk.lines)

    def _parse(self, lines: pl.Series) -> ParseResult:
        """:func:`parse_batch`, except that a parser failure costs only the lines that cause it: the
        lines are parsed again in halves until those are found, and they are rejected as ``unparsable``
        (logged once per source), so one line no parser can take never stops a source."""
        try:
            return parse_batch(self.parser, lines)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            if len(lines) > 1:
                half = len(lines) // 2
                first, rest = self._parse(lines.slice(0, half)), self._parse(lines.slice(half))
                return ParseResult.combine([first, rest.shift(half)], in_order=True)
            if not self._unparsable_logged:
                self._unparsable_logged = True
                log.warning("%s: a line the parser fails on is skipped as unparsable (%s)", self.source,
                            describe(exc))  # fmt: skip
            return ParseResult.reject(lines, "unparsable", pl.Series("line", [0], dtype=pl.UInt32))
