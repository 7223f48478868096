"""The web page's aggregates: the goaccess panels (bounded, each row with bandwidth and time served) and
the hour of hits and errors the windows keep past their own seconds, for the charts."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.aggregate.capped import OTHER
from loglens.aggregate.visitors import WebPanels
from loglens.aggregate.windows import ROLLUP_KEEP_SECONDS, ROLLUP_SECONDS, Windows
from loglens.records import RECORD_SCHEMA, conform

BASE = 1_700_000_000  # 2023-11-14T22:13:20Z
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
BOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"


def _access(rows: list[dict[str, object]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema_overrides={"ts": RECORD_SCHEMA["ts"]}, infer_schema_length=None)
    return conform(frame)


def _row(second: int, path: str = "/a", status: int = 200, client: str = "10.0.0.1", **extra: object) -> dict:
    return {
        "ts": datetime.fromtimestamp(BASE + second, UTC),
        "path": path,
        "status": status,
        "client": client,
        "bytes": 100,
        "agent": CHROME,
        **extra,
    }


def test_each_panel_counts_hits_bandwidth_and_time_served() -> None:
    panels = WebPanels(100)
    panels.update(
        _access(
            [
                _row(0, "/app.js?v=2", duration=0.5, referer="https://example.com/x", user="ann"),
                _row(1, "/app.js?v=2", duration=1.5, referer="https://example.com/y"),
                _row(2, "/gone", status=404, agent=BOT, client="10.0.0.2"),
            ]
        )
    )
    shown = panels.snapshot(10)
    assert shown["paths"][0] == {"key": "/app.js?v=2", "hits": 2, "bytes": 200, "mean_seconds": 1.0}
    assert [row["key"] for row in shown["static"]] == ["/app.js?v=2"]
    assert [(row["key"], row["hits"]) for row in shown["not_found"]] == [("/gone", 1)]
    assert [(row["key"], row["hits"]) for row in shown["referring_sites"]] == [("example.com", 2)]
    assert [(row["key"], row["hits"]) for row in shown["users"]] == [("ann", 1)]
    assert [(row["key"], row["hits"]) for row in shown["browsers"]] == [("Chrome", 2)]
    assert [(row["key"], row["hits"]) for row in shown["bots"]] == [("Googlebot", 1)]
    assert [(row["key"], row["hits"]) for row in shown["os"]] == [("Windows", 2)]  # bots apart
    assert [(row["key"], row["hits"]) for row in shown["status"]] == [("200", 2), ("404", 1)]
    assert shown["hours"] == [{"key": "22", "hits": 3, "bytes": 300, "mean_seconds": 1.0}]
    assert [(d["key"], d["hits"], d["visitors"]) for d in shown["visitors"]] == [("2023-11-14", 3, 2)]


def test_a_panel_keeps_at_most_its_capacity_of_rows() -> None:
    panels = WebPanels(3)
    panels.update(_access([_row(0, f"/p{i}", client=f"10.0.0.{i}") for i in range(50)]))
    shown = panels.snapshot(100)
    assert len(shown["paths"]) == 4 and len(shown["clients"]) == 4  # 3 rows and the pool
    assert sum(row["hits"] for row in shown["paths"]) == 50
    assert {row["key"] for row in shown["paths"]} >= {OTHER}


def test_unique_visitors_are_counted_per_day() -> None:
    panels = WebPanels(100)
    day = 86_400
    panels.update(
        _access(
            [
                _row(0, client="a"),
                _row(1, client="a"),
                _row(day, client="a"),
                _row(day, client="b"),
                _row(day, client="b", agent=BOT),
            ]
        )
    )
    days = {d["key"]: (d["hits"], d["visitors"]) for d in panels.snapshot(10)["visitors"]}
    assert days == {"2023-11-14": (2, 1), "2023-11-15": (3, 3)}


def _records(seconds: list[int], statuses: list[int]) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {"ts": [datetime.fromtimestamp(BASE + s, UTC) for s in seconds], "status": statuses},
            schema_overrides={"ts": RECORD_SCHEMA["ts"], "status": RECORD_SCHEMA["status"]},
        )
    )


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32))
def test_the_charts_read_an_hour_exactly_past_the_seconds_kept(seed: int) -> None:
    rng = random.Random(seed)
    windows = Windows(keep_seconds=30, lateness_seconds=5)
    seen: Counter[tuple[int, int]] = Counter()  # (10 s span, status class)
    last = 0
    for start in range(0, 400, 7):
        seconds = sorted(start + rng.randrange(7) for _ in range(rng.randrange(12)))
        statuses = [rng.choice((200, 200, 404, 503)) for _ in seconds]
        if seconds:
            windows.add(_records(seconds, statuses), BASE + seconds[-1])
            last = max(last, seconds[-1])
        for second, status in zip(seconds, statuses, strict=True):
            seen[second - second % 10, status // 100] += 1
    assert len(windows.buckets) <= 31 and windows.rollup  # most seconds were evicted, and rolled up
    for step in (ROLLUP_SECONDS, 60):
        points = windows.rates(BASE, BASE + last, step)
        for first, hits, e4, e5 in points:
            spans = range(first - BASE, first - BASE + step, 10)
            assert hits == sum(seen[s, c] for s in spans for c in (2, 4, 5)), (step, first)
            assert (e4, e5) == (sum(seen[s, 4] for s in spans), sum(seen[s, 5] for s in spans))


def test_the_rollup_keeps_an_hour() -> None:
    windows = Windows(keep_seconds=10, lateness_seconds=0)
    for second in range(0, 2 * ROLLUP_KEEP_SECONDS, 40):
        windows.add(_records([second], [200]), BASE + second)
    oldest = min(windows.rollup)
    assert windows.watermark is not None
    assert windows.watermark - oldest <= ROLLUP_KEEP_SECONDS + 10 + ROLLUP_SECONDS
    assert len(windows.rollup) <= ROLLUP_KEEP_SECONDS // ROLLUP_SECONDS + 2
