"""Per-second event-time windows: out-of-order lines land in their own second; lateness and retention."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from loglens.aggregate.insights import insights
from loglens.aggregate.windows import Windows
from loglens.clock import FrozenClock
from loglens.records import RECORD_SCHEMA, conform

BASE = 1_700_000_000


def _records(rows: list[tuple[int | None, int, str]]) -> pl.DataFrame:
    """Access records from ``(second offset or None, status, section)``."""
    return conform(
        pl.DataFrame(
            {
                "ts": [None if s is None else datetime.fromtimestamp(BASE + s, UTC) for s, _, _ in rows],
                "status": [status for _, status, _ in rows],
                "section": [section for _, _, section in rows],
                "bytes": [10] * len(rows),
                "client": [f"10.0.0.{i % 3}" for i in range(len(rows))],
            },
            schema_overrides={"ts": RECORD_SCHEMA["ts"]},
        )
    )


def test_out_of_order_lines_count_in_their_own_second() -> None:
    windows = Windows(keep_seconds=600, lateness_seconds=120)
    windows.add(_records([(100, 200, "/a"), (40, 500, "/b"), (99, 404, "/a")]), arrival=BASE + 100)
    assert windows.hits_per_second(BASE + 38, BASE + 41) == [(BASE + 39, 0), (BASE + 40, 1), (BASE + 41, 0)]
    assert windows.hits(BASE + 98, BASE + 100) == 2
    assert windows.late == 0
    summary = windows.summary(BASE, BASE + 100)
    assert (summary.hits, summary.errors_4xx, summary.errors_5xx, summary.bytes) == (3, 1, 1, 30)
    assert summary.section_errors == {"/a": 1, "/b": 1}
    assert summary.clients.count() == 3


def test_lines_later_than_the_lateness_are_counted_and_dropped() -> None:
    windows = Windows(keep_seconds=600, lateness_seconds=60)
    windows.add(_records([(200, 200, "/a")]), arrival=BASE + 200)
    late = windows.add(_records([(139, 200, "/old"), (141, 200, "/ok")]), arrival=BASE + 201)
    assert late == 1
    assert windows.late == 1
    assert windows.summary(BASE, BASE + 300).sections == {"/a": 1, "/ok": 1}


def test_a_batch_spanning_hours_is_judged_line_by_line() -> None:
    windows = Windows(keep_seconds=100_000, lateness_seconds=60)
    hours = [(h * 3600, 200, "/x") for h in range(6)]
    assert windows.add(_records(hours), arrival=BASE + 5 * 3600) == 0
    assert windows.hits(BASE - 1, BASE + 6 * 3600) == 6


def test_missing_timestamp_uses_arrival_and_old_seconds_are_evicted() -> None:
    windows = Windows(keep_seconds=10, lateness_seconds=5)
    windows.add(_records([(None, 200, "/now")]), arrival=BASE + 50)
    assert windows.hits(BASE + 49, BASE + 50) == 1
    windows.add(_records([(70, 200, "/later")]), arrival=BASE + 70)
    assert BASE + 50 not in windows.buckets
    assert windows.hits(BASE, BASE + 100) == 1


def test_insights_summarize_the_window() -> None:
    windows = Windows()
    windows.add(_records([(1, 200, "/a"), (2, 503, "/a"), (3, 200, "/b"), (9, 200, "/old")]), arrival=BASE)
    doc = insights(windows, window_seconds=5, now=BASE + 5, section_limit=1)
    assert (doc["hits"], doc["rate"], doc["errors"]) == (3, 0.6, {"4xx": 0, "5xx": 1})
    assert doc["sections"] == [{"section": "/a", "hits": 2, "errors": 1, "error_share": 0.5}]
    assert doc["status"] == {"200": 2, "503": 1}


def test_a_line_from_the_future_neither_moves_the_watermark_nor_makes_later_lines_late() -> None:
    windows = Windows(keep_seconds=600, lateness_seconds=60)  # lines up to 300 s ahead are kept
    year_2099 = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp()) - BASE
    dropped = windows.add(_records([(10, 200, "/a"), (year_2099, 200, "/2099"), (11, 200, "/b")]), BASE + 11)
    assert dropped == 1
    assert windows.watermark == BASE + 11
    windows.add(_records([(12, 200, "/c"), (311, 200, "/skewed"), (313, 200, "/ahead")]), arrival=BASE + 12)
    assert windows.dropped == {"future": 2}
    assert windows.late == 0
    assert windows.watermark == BASE + 311
    assert windows.summary(BASE, BASE + 400).sections == {"/a": 1, "/b": 1, "/c": 1, "/skewed": 1}
    assert insights(windows, 600, BASE + 400)["future_lines"] == 2


def test_late_and_future_lines_are_counted_apart() -> None:
    windows = Windows(lateness_seconds=60, future_skew_seconds=0)
    windows.add(_records([(100, 200, "/a")]), arrival=BASE + 100)
    windows.add(_records([(10, 200, "/late"), (101, 200, "/future")]), arrival=BASE + 100)
    assert windows.dropped == {"late": 1, "future": 1}
    assert windows.late == 1


def test_the_future_is_judged_by_the_clock_when_one_is_given() -> None:
    """The console's replay passes its event clock as arrival; the wall clock bounds the future."""
    windows = Windows(keep_seconds=100_000, future_skew_seconds=300, clock=FrozenClock(BASE + 10_000))
    windows.add(_records([(0, 200, "/a")]), arrival=BASE)
    windows.add(_records([(3600, 200, "/an-hour-later"), (10_301, 200, "/future")]), arrival=BASE + 1)
    assert windows.dropped == {"future": 1}
    assert windows.watermark == BASE + 3600
