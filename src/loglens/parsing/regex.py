"""Parsers defined by regexes with named groups, tried in order: the engine behind access formats,
level shapes and custom patterns.

Polars runs each regex over a whole batch in Rust. A regex with optional parts is several times slower
to capture with than strict ones (measured 1.07 s against 0.39 s per 250k combined lines), so formats
list strict variants first and a lenient one last; lines any variant matches leave the pool.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from loglens.errors import FormatError
from loglens.parsing.base import ParseResult, line_numbers
from loglens.parsing.fields import GROUP_NAMES, records_from_groups

_PARALLEL_MIN_ROWS = 20_000


def extract_groups(lines: pl.Series, regex: str) -> pl.DataFrame:
    """Named groups of ``regex`` for each line (all null where it does not match), slices in parallel."""
    slices = max(1, min(pl.thread_pool_size(), len(lines) // _PARALLEL_MIN_ROWS))
    frame = lines.alias("line").to_frame()
    if slices == 1:
        return frame.select(pl.col("line").str.extract_groups(regex)).unnest("line")
    step = -(-len(lines) // slices)
    plans = [
        frame.slice(i * step, step).lazy().select(pl.col("line").str.extract_groups(regex)).unnest("line")
        for i in range(slices)
    ]
    return pl.concat(plans, parallel=True).collect()


def check_pattern(regex: str) -> list[str]:
    """Return the named groups of ``regex``, or raise :class:`FormatError` naming the problem."""
    try:
        names = list(re.compile(regex).groupindex)
    except re.error as exc:
        raise FormatError(f"invalid pattern {regex!r}: {exc}") from None
    unknown = sorted(set(names) - GROUP_NAMES)
    if unknown:
        raise FormatError(
            f"pattern group(s) {', '.join(unknown)} unknown; use: {', '.join(sorted(GROUP_NAMES))}"
        )
    if not names:
        raise FormatError("pattern has no named groups, e.g. (?P<status>\\d{3})")
    return names


def check_engine(regex: str) -> None:
    """Raise :class:`FormatError` unless polars runs ``regex``: its engine (Rust's regex crate) refuses
    look-arounds and back-references that Python's ``re`` accepts, and regexes that compile too big."""
    try:
        pl.Series(["x"], dtype=pl.String).str.extract_groups(regex)
    except pl.exceptions.PolarsError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        reason = errors[0] if errors else lines[-1]
        raise FormatError(f"pattern {regex!r} cannot run: {reason}") from None


@dataclass(frozen=True)
class Variant:
    """One regex of a parser.

    Attributes:
        regex: the regex, with named groups from :data:`GROUP_NAMES`.
        escapes: its quoted groups may hold ``\\"`` to unescape (a strict ``"[^"]*"`` group cannot,
            and skipping the check saves a scan of three columns).
        ts_shape: the strftime format its ``ts`` group most likely has (others are still searched).
    """

    regex: str
    escapes: bool = True
    ts_shape: str | None = None


#: A reader tried before the regexes: the records of the lines it reads, the lines it leaves and
#: their indices. It must give exactly the records the regexes would give for the lines it reads.
PreReader = Callable[[pl.Series], tuple[pl.DataFrame, pl.Series, pl.Series]]


class RegexParser:
    """Try each regex variant in order; a line is parsed by the first variant that matches it.

    ``pre_reader``: a faster reader for the common shapes of the format, tried first.
    """

    def __init__(
        self,
        name: str,
        variants: Sequence[str | Variant],
        timezone: str = "UTC",
        pre_reader: PreReader | None = None,
    ) -> None:
        self.name = name
        self.variants = [v if isinstance(v, Variant) else Variant(v) for v in variants]
        self.timezone = timezone
        self.pre_reader = pre_reader
        for variant in self.variants:
            check_pattern(variant.regex)

    def parse(self, lines: pl.Series) -> ParseResult:
        """Parse non-empty lines; lines no variant matches are rejected as ``no_match``."""
        parts: list[ParseResult] = []
        if self.pre_reader is None:
            remaining, rows = lines, line_numbers(len(lines))  # the lines left and their indices
        else:
            records, remaining, rows = self.pre_reader(lines)
            parts.append(ParseResult(records))
        for variant in self.variants:
            if remaining.is_empty():
                break
            groups = extract_groups(remaining, variant.regex)
            matched = groups.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
            if matched.all():  # the common case, without copies
                parts.append(self._records(variant, groups, remaining, rows))
                remaining = remaining.clear()
            elif matched.any():
                part = self._records(
                    variant, groups.filter(matched), remaining.filter(matched), rows.filter(matched)
                )
                parts.append(part)
                remaining, rows = remaining.filter(~matched), rows.filter(~matched)
        parts.append(ParseResult.reject(remaining, "no_match", rows))
        return ParseResult.combine(parts)

    def _records(
        self, variant: Variant, groups: pl.DataFrame, lines: pl.Series, rows: pl.Series
    ) -> ParseResult:
        return records_from_groups(groups, lines, rows, self.timezone, variant.escapes, variant.ts_shape)
