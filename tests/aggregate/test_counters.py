"""Capped counters and per-source totals: bounded label values, monotonic counts, state round trip."""

from __future__ import annotations

from collections import Counter

import polars as pl

from loglens.aggregate.capped import OTHER, CappedCounter
from loglens.aggregate.counters import Limits, SourceCounters
from loglens.parsing import parse_lines
from loglens.records import Batch, conform


def test_capped_counter_pools_new_keys_once_full_and_never_moves_counts() -> None:
    counter: CappedCounter[str] = CappedCounter(capacity=2, other=OTHER)
    counter.update([("a", 5), ("b", 1), ("c", 7), ("a", 1)])
    assert dict(counter.items()) == {"a": 6, "b": 1, OTHER: 7}
    counter.add("d", 2)
    assert counter[OTHER] == 9
    assert counter.most_common(1) == [(OTHER, 9)]


def test_capped_counter_expires_idle_keys_and_makes_room() -> None:
    counter: CappedCounter[str] = CappedCounter(capacity=2, other=OTHER)
    counter.add("old", 1, now=10)
    counter.add("new", 1, now=100)
    assert counter.expire(before=50) == 1
    counter.add("fresh", 1, now=101)
    assert dict(counter.items()) == {"new": 1, "fresh": 1}


def test_source_counters_round_trip_through_state() -> None:
    lines = [
        '1.1.1.1 - - [09/May/2018:16:00:39 +0000] "GET /a/b HTTP/1.1" 200 10 "-" "x" 0.2',
        '1.1.1.1 - - [09/May/2018:16:00:40 +0000] "POST /c HTTP/1.1" 500 5 "-" "x" 3.0',
        "ERROR 2025-06-15T04:00:32Z boom",
    ]
    result = parse_lines(lines)
    counters = SourceCounters(Limits(section_limit=1))
    counters.update(Batch("s", result.records, len(lines) + 1, result.errors + Counter({"no_match": 1})))
    assert (counters.lines, counters.hits, counters.response_bytes) == (4, 2, 15)
    assert dict(counters.sections.items()) == {"/a": 1, OTHER: 1}
    assert counters.levels == {"ERROR": 1}
    assert counters.durations.cumulative()[-1] == ("+Inf", 2)
    restored = SourceCounters(Limits(section_limit=1))
    restored.load_state(counters.to_state())
    assert restored.to_state() == counters.to_state()


def test_million_distinct_sections_stay_within_the_cap() -> None:
    counters = SourceCounters(Limits(section_limit=100))
    for start in range(0, 1_000_000, 250_000):
        sections = pl.Series("section", [f"/s{i}" for i in range(start, start + 250_000)])
        frame = conform(
            sections.to_frame().with_columns(status=pl.lit(200), method=pl.lit("GET"), bytes=pl.lit(1))
        )
        counters.update(Batch("s", frame, len(sections)))
    assert len(counters.sections) == 101
    assert counters.sections[OTHER] == 1_000_000 - 100
    assert counters.hits == 1_000_000


def test_only_a_source_with_access_records_counts_as_an_access_source() -> None:
    app, access = SourceCounters(), SourceCounters()
    app_lines = parse_lines(["ERROR 2025-06-15T04:00:32Z boom", "INFO 2025-06-15T04:00:33Z ok"])
    app.update(Batch("app", app_lines.records, 2))
    web = parse_lines(['1.1.1.1 - - [09/May/2018:16:00:39 +0000] "GET /a HTTP/1.1" 200 10'])
    access.update(Batch("web", web.records, 1))
    assert (app.access, access.access) == (False, True)
    for counters in (app, access):
        restored = SourceCounters()
        restored.load_state(counters.to_state())
        # a checkpoint saved before the flag was: counted requests make an access source
        older = SourceCounters()
        older.load_state({key: value for key, value in counters.to_state().items() if key != "access"})
        assert restored.access == older.access == counters.access
    app.merge(access)
    assert app.access
