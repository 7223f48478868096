"""``auto``: pick the format per source from its first lines, and fall back per line to the others."""

from __future__ import annotations

import threading

import polars as pl

from loglens.parsing.base import Parser, ParseResult, line_numbers

SAMPLE_LINES = 200


class AutoParser:
    """Detects the best format on the first batch that any format reads, then keeps it.

    Lines the chosen format does not match are offered to the other formats in turn, so a file that
    mixes formats loses nothing: first to the one that read most of them in the previous batch (in
    a file that mixes two formats, the second one), so they skip the regexes of the formats that
    read none. Batches parsed at once wait while one of them detects; a caller
    that wants the format chosen on the first lines parses alone while :func:`undecided` (as
    :class:`~loglens.pipeline.LinePipeline` does).
    """

    name = "auto"

    def __init__(self, candidates: list[Parser]) -> None:
        self.candidates = candidates
        self.chosen: Parser | None = None
        #: The other format that read most of the chosen one's unmatched lines last time.
        self.fallback: Parser | None = None
        self._detecting = threading.Lock()

    def detect(self, sample: pl.Series) -> Parser | None:
        """The candidate that parses the most lines of ``sample``; None if none parses any.

        The first candidate that reads every line wins at once: the others' regexes are then never
        compiled (about 16 MB and 50 ms for a clean access log).
        """
        best, best_score = None, 0
        for parser in self.candidates:
            score = parser.parse(sample).records.height
            if score > best_score:
                best, best_score = parser, score
            if score == len(sample):
                break
        return best

    def parse(self, lines: pl.Series) -> ParseResult:
        """Parse with the chosen format, then offer unmatched lines to the others."""
        if self.chosen is None and not lines.is_empty():
            with self._detecting:
                if self.chosen is None:
                    self.chosen = self.detect(lines.head(SAMPLE_LINES))
        first = [parser for parser in (self.chosen, self.fallback) if parser is not None]
        order = first + [p for p in self.candidates if p not in first]
        parts: list[ParseResult] = []
        pending, rows = lines, line_numbers(len(lines))  # the lines left and their indices
        most = 0
        for parser in order:
            result = parser.parse(pending)
            if len(pending) < len(lines):
                result = result.renumber(rows)
                if result.records.height > most:
                    self.fallback, most = parser, result.records.height
            if result.rejected.is_empty():  # the common case: the chosen format read every line
                parts.append(result)
                pending = pending.clear()
                break
            unmatched = result.rejected["reason"] == "no_match"
            parts.append(ParseResult(result.records, result.rejected.filter(~unmatched)))
            left = result.rejected.filter(unmatched)
            pending, rows = left["text"], left["line"]
            if pending.is_empty():
                break
        parts.append(ParseResult.reject(pending, "no_match", rows))
        return ParseResult.combine(parts)


def undecided(parser: Parser) -> bool:
    """Whether ``parser`` is an ``auto`` parser that has not chosen its format yet."""
    return isinstance(parser, AutoParser) and parser.chosen is None
