"""What every parser shares: the result type, the parser protocol and the parse entry point."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from loglens.records import empty_records

#: ``line``: the line's index in the lines parsed, as in records; ``text``: the line itself.
REJECTED_SCHEMA = {"line": pl.UInt32(), "text": pl.String(), "reason": pl.String()}
#: Shared empty frame: polars frames are immutable through the API loglens uses.
_NO_REJECTED = pl.DataFrame(schema=REJECTED_SCHEMA)


@dataclass
class ParseResult:
    """Records parsed from a group of lines, and the lines that were rejected with their reason.

    Both carry ``line``, the index of their line in the lines parsed.
    """

    records: pl.DataFrame
    rejected: pl.DataFrame = field(default_factory=lambda: _NO_REJECTED)

    @property
    def errors(self) -> Counter[str]:
        """Rejected lines by reason."""
        if self.rejected.is_empty():
            return Counter()
        counts = self.rejected["reason"].value_counts()
        return Counter(dict(zip(counts["reason"].to_list(), counts["count"].to_list(), strict=True)))

    @classmethod
    def reject(cls, lines: pl.Series, reason: str, rows: pl.Series) -> ParseResult:
        """A result in which every line (``rows``: their indices) is rejected for ``reason``."""
        return cls(empty_records(), rejected_frame(lines, reason, rows))

    @classmethod
    def empty(cls) -> ParseResult:
        """No records, no rejected lines."""
        return cls(empty_records(), _NO_REJECTED)

    @classmethod
    def combine(cls, parts: Sequence[ParseResult], in_order: bool = False) -> ParseResult:
        """Concatenate results; empty parts cost nothing (most batches have one non-empty part).

        Records are sorted by ``line`` when two or more parts hold some (each parse path keeps its
        own records in line order), unless ``in_order``: each part's lines follow the previous part's.
        """
        records = [p.records for p in parts if not p.records.is_empty()]
        rejected = [p.rejected for p in parts if not p.rejected.is_empty()]
        if len(records) > 1:
            merged = pl.concat(records) if in_order else pl.concat(records).sort("line")
        else:
            merged = records[0] if records else empty_records()
        return cls(
            merged, pl.concat(rejected) if len(rejected) > 1 else rejected[0] if rejected else _NO_REJECTED
        )

    def renumber(self, rows: pl.Series) -> ParseResult:
        """This result of parsing a subset of some lines, numbered in those lines: ``rows[i]`` is the
        index there of line ``i`` of the subset."""
        return ParseResult(_renumbered(self.records, rows), _renumbered(self.rejected, rows))

    def shift(self, offset: int) -> ParseResult:
        """This result of parsing a slice that starts at line ``offset``, numbered from the start."""
        if offset == 0:
            return self
        line = pl.col("line") + pl.lit(offset, pl.UInt32)
        return ParseResult(self.records.with_columns(line), self.rejected.with_columns(line))


def _renumbered(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    return frame.with_columns(rows.gather(frame["line"]).alias("line"))


def line_numbers(count: int) -> pl.Series:
    """``0 .. count - 1``: the indices of lines not filtered yet."""
    return pl.int_range(0, count, dtype=pl.UInt32, eager=True).alias("line")


def rejected_frame(lines: pl.Series, reason: str, rows: pl.Series) -> pl.DataFrame:
    """A rejected-lines frame giving every line (``rows``: their indices) the same reason."""
    if lines.is_empty():
        return _NO_REJECTED
    return pl.DataFrame(
        {
            "line": rows.cast(pl.UInt32),
            "text": lines.cast(pl.String),
            "reason": pl.repeat(reason, len(lines), eager=True),
        }
    )


class Parser(Protocol):
    """Turns non-empty lines into records; lines it cannot read are rejected with a reason.

    Records and rejected lines carry ``line``, the index of their line in ``lines``; records come in
    line order (rejected lines in any order).
    """

    name: str

    def parse(self, lines: pl.Series) -> ParseResult:
        """Parse a Series of non-empty lines."""
        ...


#: Lines parsed at once. A 2 MiB chunk of very short lines holds up to a million of them, and a
#: parser's intermediate columns cost a few hundred bytes a line (a million one-byte lines peaked at
#: 580 MB in one piece), so longer batches are parsed in slices of this many lines.
MAX_PARSE_LINES = 50_000


def parse_batch(parser: Parser, lines: pl.Series) -> ParseResult:
    """Parse ``lines`` with ``parser``, records in line order; empty lines are rejected as ``empty``
    without reaching it."""
    if len(lines) > MAX_PARSE_LINES:
        return ParseResult.combine(
            [
                parse_batch(parser, lines.slice(start, MAX_PARSE_LINES)).shift(start)
                for start in range(0, len(lines), MAX_PARSE_LINES)
            ],
            in_order=True,
        )
    if lines.is_empty():
        return ParseResult.empty()
    empty = lines.str.len_bytes() == 0
    if not empty.any():
        return parser.parse(lines)
    return ParseResult.combine(
        [
            parser.parse(lines.filter(~empty)).renumber((~empty).arg_true()),
            ParseResult.reject(lines.filter(empty), "empty", empty.arg_true()),
        ]
    )


def parse_lines(
    lines: Iterable[str] | pl.Series, format: str = "auto", pattern: str | None = None, timezone: str = "UTC"
) -> ParseResult:
    """Parse lines held in memory (without newlines) with a format or custom pattern; for tests and tools."""
    from loglens.parsing.registry import build_parser

    series = lines if isinstance(lines, pl.Series) else pl.Series("line", list(lines), dtype=pl.String)
    return parse_batch(build_parser(format, pattern=pattern, timezone=timezone), series)
