"""Times outside 1970..9999 UTC are ``bad_timestamp`` on every path (C reader, regexes, JSON), so no
later conversion (totals' first and last times, epoch seconds) can fail on them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import polars as pl
import pytest

from loglens.aggregate.counters import SourceCounters
from loglens.parsing.base import parse_lines
from loglens.parsing.clf_split import Shape, read_strict
from loglens.records import Batch

REQUEST = '"GET /a HTTP/1.1" 200 5'


def _clf(time: str) -> str:
    return f"1.2.3.4 - - [{time}] {REQUEST}"


def _fold(format: str, lines: list[str]) -> SourceCounters:
    """Parse ``lines`` and fold them into totals: what a running loglens does with every batch."""
    result = parse_lines(lines, format)
    counters = SourceCounters()
    counters.update(Batch("s", result.records, len(lines), result.errors))
    return counters


#: (format, line): times polars reads but Python's datetime cannot hold once in UTC, or before 1970.
OUT_OF_RANGE = [
    ("json", '{"ts":9000000000000000,"msg":"x"}'),  # epoch ms of year 287,000
    ("json", '{"time":1754594632000000,"msg":"x"}'),  # epoch microseconds, read as ms
    ("json", '{"time":"1754594632000000","msg":"x"}'),
    ("json", '{"ts":"9999-12-31T23:59:59-01:00","msg":"x"}'),
    ("json", '{"ts":"1969-12-31T23:59:59Z","msg":"x"}'),
    ("combined", _clf("31/Dec/9999:23:59:59 -0100")),  # read by the C reader's shape
    ("common", _clf("31/Dec/9999:23:59:59 -0100")),
    ("common", _clf("01/Jan/0001:00:30:00 +0100")),  # the regexes' (year < 1000)
    ("common", '1.2.3.4 - - [31/Dec/9999:23:59:59 -0100] "GET /a" 200 5'),  # the lenient regex's
    ("combined", _clf("01/Jan/1970:00:59:59 +0100")),
    ("iso", _clf("9999-12-31T23:59:59-01:00")),
    ("iso", _clf("0001-01-01T00:30:00+01:00")),
    ("iso", _clf("9999-12-31 23:59:59-01:00")),  # the regexes' (space for T)
    ("level", "0001-01-01 00:30:00 INFO x"),
    ("level", "1969-12-31 23:59:59 INFO x"),
]


@pytest.mark.parametrize(("format", "line"), OUT_OF_RANGE)
def test_an_out_of_range_time_is_a_bad_timestamp(format: str, line: str) -> None:
    counters = _fold(format, [line])
    assert counters.parse_errors == Counter(bad_timestamp=1)
    assert counters.first_ts is None


def test_the_range_ends_are_kept() -> None:
    lines = [_clf("01/Jan/1970:00:00:00 +0000"), _clf("31/Dec/9999:23:59:59 +0000")]
    counters = _fold("combined", lines)
    assert counters.parse_errors == Counter()
    assert counters.first_ts == datetime(1970, 1, 1, tzinfo=UTC)
    assert counters.last_ts == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_the_c_reader_leaves_out_of_range_times_to_the_regexes() -> None:
    lines = pl.Series([_clf("31/Dec/9999:23:59:59 -0100"), _clf("31/Dec/9999:23:59:59 +0000")])
    records, left, numbers = read_strict(lines, Shape.COMMON)
    assert left.to_list() == [lines[0]]
    assert numbers.to_list() == [0]
    assert records["ts"].dt.year().to_list() == [9999]


def test_a_bad_time_among_good_lines_costs_only_its_line() -> None:
    good = _clf("10/Oct/2000:13:55:36 -0700")
    counters = _fold("combined", [good, _clf("31/Dec/9999:23:59:59 -0100"), good])
    assert counters.parse_errors == Counter(bad_timestamp=1)
    assert counters.hits == 2
