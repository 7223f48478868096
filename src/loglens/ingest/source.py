"""The spool as a runtime source: ingested lines reach the totals, windows and sinks as file lines do.

Its position (spool file, offset) is checkpointed with the totals, so after a crash the lines past the
checkpoint are read again and nothing is counted twice. Files before the checkpointed position are
deleted once the checkpoint holds it (:meth:`SpoolSource.committed`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import orjson
import polars as pl

from loglens.contracts import SourceStatus
from loglens.ingest.spool import Frame, Spool, decode_frames
from loglens.parsing import build_parser
from loglens.pipeline import LinePipeline
from loglens.records import Batch, Span

#: Bytes one poll reads from the spool.
READ_BYTES = 16 * 1024 * 1024
#: The checkpoint key of the spool's position.
SOURCE_ID = "ingest"


class SpoolSource:
    """Reads the frames of a :class:`Spool` in order; one batch per run of frames of one source and format.

    Args:
        spool: the spool the HTTP endpoints write.
        timezone, max_line_bytes: how lines are parsed (as for files).
    """

    def __init__(self, spool: Spool, timezone: str = "UTC", max_line_bytes: int = 64 * 1024) -> None:
        self.id = SOURCE_ID
        self.spool = spool
        self.timezone = timezone
        self.max_line_bytes = max_line_bytes
        self.backlog = False
        self.exhausted = False
        self.index = 0
        self.offset = 0
        self._pipelines: dict[tuple[str, str], LinePipeline] = {}
        self._lines: dict[str, int] = {}
        self._error: str | None = None

    def poll(self, now: float) -> Generator[Batch, None, None]:
        """The frames made durable since the last poll, as batches, each advancing the position."""
        durable, current = self.spool.durable()
        budget = READ_BYTES
        while budget > 0:
            end = durable.get(self.index)
            if end is None:  # deleted, or not written yet: the next file on disk, if any
                later = [i for i in durable if i > self.index]
                if not later:
                    break
                self.index, self.offset = min(later), 0
                continue
            if self.offset >= end:
                if self.index >= current:  # (as of the snapshot: a later roll may add to this file first)
                    break
                self.index, self.offset = self.index + 1, 0
                continue
            frames = self._read(self.index, self.offset, min(end, self.offset + budget))
            if not frames:
                if self.offset + budget < end:  # one frame is larger than the budget: read it whole
                    budget = end - self.offset
                    continue
                self._error = f"spool file {self.spool.path(self.index)} is damaged at offset {self.offset}"
                self.offset = end  # the rest of this file cannot be read
                continue
            budget -= frames[-1].end - self.offset
            yield from self._batches(frames)
        self.backlog = budget <= 0  # stopped by the budget, not by the end of what is durable

    def _read(self, index: int, start: int, stop: int) -> list[Frame]:
        with open(self.spool.path(index), "rb") as handle:
            handle.seek(start)
            data = handle.read(stop - start)
        frames, _ = decode_frames(data, start)
        return frames

    def _batches(self, frames: list[Frame]) -> Generator[Batch, None, None]:
        """Runs of consecutive frames of one source and format, each parsed as one batch."""
        run: list[Frame] = []
        for frame in frames:
            if run and (frame.source, frame.format) != (run[0].source, run[0].format):
                yield self._batch(run)
                run = []
            run.append(frame)
        if run:
            yield self._batch(run)

    def _batch(self, run: list[Frame]) -> Batch:
        key = (run[0].source, run[0].format)
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            parser = build_parser(key[1], None, self.timezone)
            pipeline = self._pipelines[key] = LinePipeline(key[0], parser, self.max_line_bytes)
        lines = [line for frame in run for line in frame.lines]
        batch = pipeline.parse_lines(pl.Series("line", lines, dtype=pl.String))
        if any(frame.attributes is not None for frame in run):
            batch.attributes = _attributes(run)
        batch.span = Span(f"spool:{self.index}", self.offset, run[-1].end)
        self.offset = run[-1].end
        self._lines[key[0]] = self._lines.get(key[0], 0) + len(lines)
        return batch

    def state(self) -> dict[str, Any]:
        """The spool file and offset reached."""
        return {"index": self.index, "offset": self.offset}

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a saved position."""
        self.index, self.offset = int(state.get("index", 0)), int(state.get("offset", 0))

    def committed(self, state: dict[str, Any]) -> None:
        """Delete the spool files before the checkpointed one."""
        self.spool.remove_before(int(state.get("index", 0)))

    def status(self) -> list[SourceStatus]:
        """One entry per ingest source: lines read; the whole spool's unread bytes on each."""
        durable, _ = self.spool.durable()
        lag = sum(size for i, size in durable.items() if i > self.index) + max(
            0, durable.get(self.index, 0) - self.offset
        )
        return [
            SourceStatus(name=name, lines=self._lines[name], lag_bytes=lag, healthy=self._error is None,
                         last_error=self._error)
            for name in sorted(self._lines)
        ]  # fmt: skip

    def feeds(self, name: str) -> bool:
        """Whether source label ``name`` has had lines from the spool (the archive keeps those always)."""
        return name in self._lines

    def labels_of(self, name: str) -> dict[str, str]:
        """None: ingest sources have no extra labels."""
        return {}

    def close(self) -> None:
        """Nothing held open between polls."""


def _attributes(run: list[Frame]) -> pl.Series:
    """Each line's attributes as JSON (null for a line without), in the order of the run's lines."""
    texts: list[str | None] = []
    for frame in run:
        if frame.attributes is None:
            texts.extend([None] * len(frame.lines))
        else:
            texts.extend(None if item is None else orjson.dumps(item).decode() for item in frame.attributes)
    return pl.Series("attributes", texts, dtype=pl.String)
