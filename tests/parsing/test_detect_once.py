"""``auto`` chooses a source's format once, on its first lines, even when the first chunk holds no
complete line and the next chunks are parsed in parallel."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest

from loglens import pipeline
from loglens.parsing import build_parser
from loglens.parsing.base import Parser
from loglens.parsing.detect import AutoParser
from loglens.parsing.lines import LineChunk
from loglens.pipeline import LinePipeline

LEVEL = "ERROR 2025-06-15T04:00:32Z disk {i} failed"
COMBINED = '10.0.0.1 - - [15/Jun/2025:04:00:32 +0000] "GET /x{i} HTTP/1.1" 200 5 "-" "agent"'
JSON = '{{"ts": "2025-06-15T04:00:32Z", "level": "info", "msg": "m{i}"}}'


def _chunk(shape: str) -> LineChunk:
    lines = [shape.format(i=i) for i in range(50)]
    return LineChunk(pl.Series("line", lines, dtype=pl.String), 0, sum(len(line) + 1 for line in lines))


def test_auto_detects_once_on_the_first_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    workers = ThreadPoolExecutor(3, thread_name_prefix="test-parse")
    monkeypatch.setattr(pipeline, "_pool", workers)
    monkeypatch.setattr(pipeline, "PARSE_WORKERS", 3)
    parser = build_parser("auto")
    assert isinstance(parser, AutoParser)
    samples: list[str] = []
    # Detections in two workers meet here, so a race between them happens every time, not by luck;
    # one in the caller's thread waits for nobody.
    meet = threading.Barrier(2, timeout=5)
    detect = parser.detect

    def spy(sample: pl.Series) -> Parser | None:
        samples.append(sample[0])
        if threading.current_thread() is not threading.main_thread():
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()
        return detect(sample)

    monkeypatch.setattr(parser, "detect", spy)
    source = LinePipeline("test", parser)
    empty = source.splitter.feed(b"a partial first line")  # no newline yet: no complete line
    assert empty.lines.is_empty()
    chunks = [empty, _chunk(LEVEL), _chunk(COMBINED), _chunk(JSON), _chunk(LEVEL)]
    try:
        batches = [batch for batch, _ in source.parse_ahead(iter(chunks))]
    finally:
        workers.shutdown()
    assert samples == [LEVEL.format(i=0)]
    assert parser.chosen is not None and parser.chosen.name == "level"
    assert [batch.parsed for batch in batches] == [0, 50, 50, 50, 50]


def test_the_other_format_of_a_mixed_source_is_offered_its_lines_first() -> None:
    """In a file that mixes two formats, the second one reads the lines the chosen one leaves, and is
    then offered them before the formats that read none, with the same records."""
    lines = pl.Series("line", [shape.format(i=i) for i in range(40) for shape in (COMBINED, LEVEL)])
    learning, fresh = build_parser("auto"), build_parser("auto")
    assert isinstance(learning, AutoParser)
    learning.parse(lines)  # chooses combined, learns which format reads the rest
    assert learning.chosen is not None and learning.chosen.name == "combined"
    assert learning.fallback is not None and learning.fallback.name == "level"
    again, first = learning.parse(lines), fresh.parse(lines)
    assert again.records.equals(first.records)
    assert again.records.height == len(lines)
