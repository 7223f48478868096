"""A line no parser can take costs that line only: the chunk is parsed again in halves around it."""

from __future__ import annotations

import logging

import polars as pl
import pytest

from loglens.parsing import build_parser
from loglens.parsing.base import ParseResult
from loglens.parsing.lines import LineChunk
from loglens.pipeline import LinePipeline
from support import REAL

GOOD = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines()[:64]


class PoisonedParser:
    """The combined parser, except that it raises on a batch holding the word ``poison``.

    A stand-in, said so: no real parser is known to raise on a line since the bad-time fixes, and this
    path exists for the ones nobody found yet.
    """

    name = "combined"

    def __init__(self) -> None:
        self.real = build_parser("combined")

    def parse(self, lines: pl.Series) -> ParseResult:
        if lines.str.contains("poison").any():
            raise pl.exceptions.ComputeError("the parser broke on this batch")
        return self.real.parse(lines)


def test_a_line_the_parser_fails_on_is_skipped_and_every_other_line_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines = [*GOOD[:20], "poison one", *GOOD[20:50], "poison two", *GOOD[50:]]
    pipeline = LinePipeline("a.log", PoisonedParser())  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="loglens")
    batch = pipeline.parse_chunk(LineChunk(pl.Series("line", lines), 0, 0))
    assert batch.lines == 66
    assert batch.errors == {"unparsable": 2}
    assert batch.records.height == 64
    assert batch.records["line"].to_list() == [i for i, line in enumerate(lines) if "poison" not in line]
    assert batch.records["client"].to_list() == [line.split()[0] for line in GOOD]
    assert len([r for r in caplog.records if "unparsable" in r.getMessage()]) == 1
