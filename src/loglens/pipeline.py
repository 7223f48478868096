"""Bytes of one source to batches of records: split into lines, parse, count bad lines by reason."""

from __future__ import annotations

import polars as pl

from loglens.parsing.base import Parser, parse_batch
from loglens.parsing.lines import LineChunk, LineSplitter
from loglens.records import Batch


class LinePipeline:
    """Turns the byte stream of one source into :class:`Batch` objects.

    The partial last line is held (see :class:`LineSplitter`) until its newline arrives or
    :meth:`finish` is called at end of input.
    """

    def __init__(self, source: str, parser: Parser, max_line_bytes: int = 64 * 1024) -> None:
        self.source = source
        self.parser = parser
        self.splitter = LineSplitter(max_line_bytes)

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete last line not yet parsed."""
        return self.splitter.pending_bytes

    def feed(self, data: bytes) -> tuple[Batch, int]:
        """Parse the lines ``data`` completes; return the batch and the stream bytes it consumed."""
        chunk = self.splitter.feed(data)
        return self.parse_chunk(chunk), chunk.consumed

    def finish(self) -> tuple[Batch, int]:
        """End of input: parse the partial last line too."""
        chunk = self.splitter.finish()
        return self.parse_chunk(chunk), chunk.consumed

    def parse_lines(self, lines: pl.Series) -> Batch:
        """Parse lines that arrive already split (HTTP ingest)."""
        return self.parse_chunk(LineChunk(lines, 0, 0))

    def parse_chunk(self, chunk: LineChunk) -> Batch:
        """Parse lines already cut by :attr:`splitter` (lets a reader thread split ahead)."""
        result = parse_batch(self.parser, chunk.lines)
        errors = result.errors
        if chunk.too_long:
            errors["too_long"] += chunk.too_long
        return Batch(self.source, result.records, len(chunk.lines) + chunk.too_long, errors)
