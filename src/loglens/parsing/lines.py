"""Cut a byte stream into complete lines, in columnar batches, with bounded memory.

A line longer than ``max_line_bytes`` is counted as ``too_long`` and skipped, and never held whole:
once the pending partial line passes the limit its bytes are dropped until the next newline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

_NEWLINE = 10


@dataclass
class LineChunk:
    """Complete lines cut from the bytes fed so far.

    Attributes:
        lines: the lines without their newline or CR (invalid UTF-8 replaced by U+FFFD).
        too_long: lines skipped for exceeding the maximum length.
        consumed: bytes these lines (and skipped bytes) took in the stream, newlines included.
    """

    lines: pl.Series
    too_long: int
    consumed: int


def _empty_chunk(too_long: int = 0, consumed: int = 0) -> LineChunk:
    return LineChunk(pl.Series("line", [], dtype=pl.String), too_long, consumed)


def newline_positions(block: bytes | memoryview) -> np.ndarray:
    """Offsets of every ``\\n`` in ``block``.

    Scanned in 1 MiB slices: one comparison over the whole block allocates a mask as large as the block,
    and its page faults cost four times the scan (measured 0.15 s against 0.037 s for 73 MB).
    """
    data = np.frombuffer(block, dtype=np.uint8)
    step = 1 << 20
    parts = [np.flatnonzero(data[i : i + step] == _NEWLINE) + i for i in range(0, len(data), step)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _as_arrow(block: bytes | memoryview, ends: np.ndarray) -> pa.Array:
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    return pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(block))


def split_lines(block: bytes | memoryview, max_line_bytes: int) -> tuple[pl.Series, int]:
    """Split ``block`` (which ends with a newline) into a string Series; return it and the too-long count.

    The bytes go to polars as one Arrow buffer with no Python object per line (0.09 s per 250k lines,
    against 0.24 s for ``bytes.split``); Arrow validates the UTF-8, and only a block that fails is
    decoded again with replacement characters.
    """
    ends = newline_positions(block)
    array = _as_arrow(block, ends)
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        block = bytes(block).decode("utf-8", "replace").encode("utf-8")
        ends = newline_positions(block)
        array = _as_arrow(block, ends)
    series = pl.Series("line", pl.from_arrow(pc.cast(array, pa.string_view())))
    lengths = np.diff(ends, prepend=-1) - 1
    long_mask = lengths > max_line_bytes
    too_long = int(long_mask.sum())
    if too_long:
        series = series.filter(pl.Series(~long_mask))
    series = series.str.head(-1)  # the newline
    if series.str.ends_with("\r").any():
        series = series.str.strip_suffix("\r")
    return series, too_long


class LineSplitter:
    """Feed bytes in, get complete lines out; the partial last line waits for its newline."""

    def __init__(self, max_line_bytes: int = 64 * 1024) -> None:
        self.max_line_bytes = max_line_bytes
        self._pending = b""
        self._skipping = False

    @property
    def pending_bytes(self) -> int:
        """Bytes of the partial line held back, not yet part of any chunk."""
        return len(self._pending)

    def feed(self, data: bytes) -> LineChunk:
        """Add ``data``; return the lines it completes.

        The bulk of ``data`` is split through a memoryview, never copied: only the line that straddles
        the previous chunk is joined into new bytes.
        """
        consumed = too_long = start = 0
        if self._skipping:
            newline = data.find(b"\n")
            if newline < 0:
                return _empty_chunk(consumed=len(data))
            self._skipping = False
            consumed = start = newline + 1
        last = data.rfind(b"\n", start)
        blocks: list[bytes | memoryview] = []
        if last >= 0:
            if self._pending:
                first = data.find(b"\n", start)
                blocks.append(self._pending + data[start : first + 1])
                start = first + 1
            if start <= last:
                blocks.append(memoryview(data)[start : last + 1])
            self._pending = b""
            start = last + 1
        self._pending += data[start:]
        if len(self._pending) > self.max_line_bytes:
            consumed += len(self._pending)
            too_long += 1
            self._pending = b""
            self._skipping = True
        if not blocks:
            return _empty_chunk(too_long, consumed)
        parts = [split_lines(block, self.max_line_bytes) for block in blocks]
        lines = parts[0][0] if len(parts) == 1 else pl.concat([series for series, _ in parts])
        too_long += sum(long_lines for _, long_lines in parts)
        return LineChunk(lines, too_long, consumed + sum(len(block) for block in blocks))

    def finish(self) -> LineChunk:
        """End of input: the partial line, if any, becomes a last line."""
        pending, self._pending = self._pending, b""
        self._skipping = False
        if not pending:
            return _empty_chunk()
        chunk = self.feed(pending + b"\n")
        chunk.consumed -= 1  # the newline added here was never in the stream
        return chunk
