"""Counters never go down and never wrap, whatever sizes and durations a line claims."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from loglens.aggregate.counters import SourceCounters
from loglens.aggregate.windows import Windows
from loglens.parsing import parse_lines
from loglens.records import Batch

TS = "2025-01-01T00:00:00Z"
ARRIVAL = datetime(2025, 1, 1, tzinfo=UTC).timestamp()


def _batch(*fields: dict[str, object]) -> Batch:
    lines = [orjson.dumps({"ts": TS, "status": 200, **f}).decode() for f in fields]
    result = parse_lines(lines, "json")
    assert not result.errors
    return Batch("s", result.records, len(lines), result.errors)


def test_a_negative_size_does_not_lower_the_bytes_counter() -> None:
    counters, windows = SourceCounters(), Windows()
    for batch in (_batch({"bytes": 100}), _batch({"bytes": -5}), _batch({"bytes": 7}, {"bytes": -1000})):
        counters.update(batch)
        windows.add(batch.records, ARRIVAL)
    assert counters.response_bytes == 107
    assert windows.summary(ARRIVAL - 1, ARRIVAL).bytes == 107


def test_huge_sizes_in_one_batch_do_not_wrap() -> None:
    counters, windows = SourceCounters(), Windows()
    batch = _batch({"bytes": 9 * 10**18}, {"bytes": 9 * 10**18})
    counters.update(batch)
    windows.add(batch.records, ARRIVAL)
    assert counters.response_bytes == 18 * 10**18
    assert windows.summary(ARRIVAL - 1, ARRIVAL).bytes == 18 * 10**18


def test_negative_and_non_finite_durations_do_not_lower_or_poison_the_histogram() -> None:
    counters, windows = SourceCounters(), Windows()
    batch = _batch({"duration": 0.5}, {"duration": -2}, {"duration": "NaN"}, {"duration": "inf"})
    counters.update(batch)
    windows.add(batch.records, ARRIVAL)
    assert counters.durations.total == 0.5
    assert counters.durations.count == 2  # -2 counts as 0 s; NaN and inf are not observed
    assert counters.durations.cumulative()[0] == ("0.005", 1)
    second = windows.summary(ARRIVAL - 1, ARRIVAL)
    assert (second.duration_sum, second.duration_count) == (0.5, 2)
