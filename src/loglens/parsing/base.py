"""What every parser shares: the result type, the parser protocol and the parse entry point."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from loglens.records import empty_records

REJECTED_SCHEMA = {"line": pl.String(), "reason": pl.String()}


@dataclass
class ParseResult:
    """Records parsed from a group of lines, and the lines that were rejected with their reason."""

    records: pl.DataFrame
    rejected: pl.DataFrame

    @property
    def errors(self) -> Counter[str]:
        """Rejected lines by reason."""
        if self.rejected.is_empty():
            return Counter()
        counts = self.rejected["reason"].value_counts()
        return Counter(dict(zip(counts["reason"].to_list(), counts["count"].to_list(), strict=True)))

    @classmethod
    def reject(cls, lines: pl.Series, reason: str) -> ParseResult:
        """A result in which every line is rejected for ``reason``."""
        return cls(empty_records(), rejected_frame(lines, reason))

    @classmethod
    def empty(cls) -> ParseResult:
        """No records, no rejected lines."""
        return cls(empty_records(), _NO_REJECTED)

    @classmethod
    def combine(cls, parts: Sequence[ParseResult]) -> ParseResult:
        """Concatenate results; empty parts cost nothing (most batches have one non-empty part)."""
        records = [p.records for p in parts if not p.records.is_empty()]
        rejected = [p.rejected for p in parts if not p.rejected.is_empty()]
        return cls(
            pl.concat(records) if len(records) > 1 else records[0] if records else empty_records(),
            pl.concat(rejected) if len(rejected) > 1 else rejected[0] if rejected else _NO_REJECTED,
        )


#: Shared empty frame: polars frames are immutable through the API loglens uses.
_NO_REJECTED = pl.DataFrame(schema=REJECTED_SCHEMA)


def rejected_frame(lines: pl.Series, reason: str) -> pl.DataFrame:
    """A rejected-lines frame giving every line the same reason."""
    if lines.is_empty():
        return _NO_REJECTED
    return pl.DataFrame({"line": lines.cast(pl.String), "reason": pl.repeat(reason, len(lines), eager=True)})


class Parser(Protocol):
    """Turns non-empty lines into records; lines it cannot read are rejected with a reason."""

    name: str

    def parse(self, lines: pl.Series) -> ParseResult:
        """Parse a Series of non-empty lines."""
        ...


#: Lines parsed at once. A 2 MiB chunk of very short lines holds up to a million of them, and a
#: parser's intermediate columns cost a few hundred bytes a line (a million one-byte lines peaked at
#: 580 MB in one piece), so longer batches are parsed in slices of this many lines.
MAX_PARSE_LINES = 50_000


def parse_batch(parser: Parser, lines: pl.Series) -> ParseResult:
    """Parse ``lines`` with ``parser``; empty lines are rejected as ``empty`` without reaching it."""
    if len(lines) > MAX_PARSE_LINES:
        return ParseResult.combine(
            [
                parse_batch(parser, lines.slice(start, MAX_PARSE_LINES))
                for start in range(0, len(lines), MAX_PARSE_LINES)
            ]
        )
    if lines.is_empty():
        return ParseResult.empty()
    empty = lines.str.len_bytes() == 0
    if not empty.any():
        return parser.parse(lines)
    return ParseResult.combine(
        [parser.parse(lines.filter(~empty)), ParseResult.reject(lines.filter(empty), "empty")]
    )


def parse_lines(
    lines: Iterable[str] | pl.Series, format: str = "auto", pattern: str | None = None, timezone: str = "UTC"
) -> ParseResult:
    """Parse lines held in memory (without newlines) with a format or custom pattern; for tests and tools."""
    from loglens.parsing.registry import build_parser

    series = lines if isinstance(lines, pl.Series) else pl.Series("line", list(lines), dtype=pl.String)
    return parse_batch(build_parser(format, pattern=pattern, timezone=timezone), series)
