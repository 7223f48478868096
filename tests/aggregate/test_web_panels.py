"""The web page's aggregates: the goaccess panels (bounded, each row with bandwidth and time served) and
the hour of hits and errors the windows keep past their own seconds, for the charts."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime

import polars as pl
import pytest
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


class _Clock:
    """Seconds the panels read as now, set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_each_source_keeps_its_own_panels_and_every_source_sums_them() -> None:
    panels = WebPanels(100)
    panels.update(_access([_row(0, "/a"), _row(1, "/a", client="10.0.0.2")]), "a.log")
    panels.update(_access([_row(2, "/b", status=404)]), "b.log")
    rows = {
        name: {r["key"]: r["hits"] for r in panels.snapshot(10, name)["paths"]} for name in ("a.log", "b.log")
    }
    assert rows == {"a.log": {"/a": 2}, "b.log": {"/b": 1}}
    assert panels.snapshot(10, "b.log")["not_found"][0]["key"] == "/b"
    assert panels.snapshot(10, "a.log")["not_found"] == []
    every = panels.snapshot(10)
    assert {r["key"]: r["hits"] for r in every["paths"]} == {"/a": 2, "/b": 1}
    # the same visitor in two sources counts once; per source, each counts its own
    assert [d["visitors"] for d in every["visitors"]] == [2]
    assert [d["visitors"] for d in panels.snapshot(10, "b.log")["visitors"]] == [1]
    assert panels.snapshot(10, "nope")["paths"] == []


def test_a_time_range_reads_the_minutes_it_covers_and_old_minutes_are_dropped() -> None:
    clock = _Clock(BASE - BASE % 60)
    panels = WebPanels(100, clock)
    panels.update(_access([_row(0, "/old")]), "a.log")
    clock.now += 300
    panels.update(_access([_row(300, "/new"), _row(301, "/new")]), "a.log")
    keys = lambda shown: {r["key"]: r["hits"] for r in shown["paths"]}  # noqa: E731
    assert keys(panels.snapshot(10, range_seconds=60)) == {"/new": 2}
    assert keys(panels.snapshot(10, range_seconds=301)) == {"/new": 2, "/old": 1}  # whole minutes
    assert keys(panels.snapshot(10, "a.log", 600)) == {"/new": 2, "/old": 1}
    assert keys(panels.snapshot(10)) == {"/new": 2, "/old": 1}
    clock.now += 600
    panels.update(_access([_row(900, "/later")]), "a.log")
    assert keys(panels.snapshot(10, range_seconds=600)) == {"/later": 1}
    assert len(panels.minutes) <= 11  # the minutes past the ranges are not kept
    assert keys(panels.snapshot(10)) == {"/new": 2, "/old": 1, "/later": 1}  # since the start: all


def test_a_source_over_a_range_has_its_own_summary() -> None:
    clock = _Clock(BASE - BASE % 60)
    panels = WebPanels(100, clock)
    panels.update(_access([_row(0, "/api/x", method="GET", section="/api", duration=1.0)]), "a.log")
    clock.now += 300
    app = [{"ts": datetime.fromtimestamp(BASE + 300, UTC), "level": "ERROR"}] * 2  # no status: not access
    panels.update(
        _access([
            _row(300, "/api/x", status=500, method="POST", section="/api", duration=2.0),
            _row(301, "/web", status=404, method="BREW", section="/web", client="10.0.0.2", user="ann"),
            *app,
        ]),
        "a.log",
    )  # fmt: skip
    panels.update(_access([_row(302, "/b", method="GET", section="/b")]), "b.log")
    seen = panels.range_summary("a.log", 60)
    assert seen.lines == 4 and seen.levels == {"ERROR": 2}
    assert seen.status == {500: (1, 100, 2.0, 1), 404: (1, 100, 0.0, 0)}
    assert seen.methods == {"POST": 1, "OTHER": 1}  # pooled as the windows pool them
    assert seen.sections == {"/api": (1, 1), "/web": (1, 1)}
    assert (seen.clients, seen.users) == (2, 1)
    whole = panels.range_summary("a.log", 600)  # the first minute too
    assert whole.lines == 5 and whole.status[200] == (1, 100, 1.0, 1) and whole.sections["/api"] == (2, 1)
    assert panels.range_summary("b.log", 60).methods == {"GET": 1}
    assert panels.range_summary("nope", 60).lines == 0


def test_the_virtual_hosts_panel_counts_the_hosts_a_format_logs() -> None:
    panels = WebPanels(100)
    panels.update(_access([_row(0)]), "plain.log")
    assert not panels.vhosts and panels.snapshot(10)["vhosts"] == []
    panels.update(_access([_row(1, vhost="www.example.com"), _row(2, vhost="api.example.com"),
                           _row(3, vhost="www.example.com")]), "vhosts.log")  # fmt: skip
    assert panels.vhosts
    assert [(r["key"], r["hits"]) for r in panels.snapshot(10)["vhosts"]] == [
        ("www.example.com", 2),
        ("api.example.com", 1),
    ]


_records_strategy = st.lists(
    st.tuples(
        st.integers(0, 3 * 86_400),
        st.sampled_from(["/a", "/b.css", "/c?x=1", "/d", None]),
        st.sampled_from([200, 304, 404, 500]),
        st.sampled_from(["10.0.0.1", "10.0.0.2", "::1", None]),
        st.sampled_from([CHROME, BOT, None]),
        st.sampled_from(["https://example.com/x", "https://other.org/", None]),
        st.one_of(st.none(), st.floats(0, 10)),
    ),
    max_size=60,
)


def _fed(batches: list[list[tuple]], source_count: int, clock: _Clock | None = None) -> WebPanels:
    panels = WebPanels(100, clock)
    for number, batch in enumerate(batches):
        rows = [
            _row(sec, path, status, client, agent=agent, referer=ref, duration=dur, bytes=sec % 1000)
            for sec, path, status, client, agent, ref, dur in batch
        ]
        if rows:
            panels.update(_access(rows), f"s{number % source_count}.log")
    return panels


@settings(max_examples=30, deadline=None)
@given(st.lists(_records_strategy, max_size=4), st.integers(1, 3))
def test_the_panels_count_exactly_what_a_plain_count_finds(batches: list[list[tuple]], sources: int) -> None:
    panels = _fed(batches, sources)
    everything = [row for batch in batches for row in batch]
    shown = panels.snapshot(1000)
    paths = Counter(path for _s, path, *_ in everything if path is not None)
    assert {r["key"]: r["hits"] for r in shown["paths"]} == paths
    missing = Counter(path for _s, path, status, *_ in everything if path is not None and status == 404)
    assert {r["key"]: r["hits"] for r in shown["not_found"]} == missing
    clients = Counter(client for _s, _p, _st, client, *_ in everything if client is not None)
    assert {r["key"]: r["hits"] for r in shown["clients"]} == clients
    sizes = Counter()
    for sec, path, *_ in everything:
        if path is not None:
            sizes[path] += sec % 1000
    assert {r["key"]: r["bytes"] for r in shown["paths"]} == {k: sizes[k] for k in paths}
    assert sum(r["hits"] for r in shown["hours"]) == len(everything)
    days = Counter(datetime.fromtimestamp(BASE + sec, UTC).date().isoformat() for sec, *_ in everything)
    assert {d["key"]: d["hits"] for d in shown["visitors"]} == days
    for day in days:  # below the sketch's exact limit, visitors are exact
        pairs = {(c, a) for sec, _p, _st, c, a, *_ in everything
                 if datetime.fromtimestamp(BASE + sec, UTC).date().isoformat() == day}  # fmt: skip
        assert next(d["visitors"] for d in shown["visitors"] if d["key"] == day) == len(pairs)


@settings(max_examples=20, deadline=None)
@given(st.lists(_records_strategy, max_size=4), st.integers(1, 3))
def test_a_checkpoint_of_the_panels_restores_the_same_panels(
    batches: list[list[tuple]], sources: int
) -> None:
    panels = _fed(batches, sources)
    saved = json.loads(json.dumps(panels.to_state()))
    restored = WebPanels(100)
    restored.load_state(saved)
    assert restored.snapshot(1000) == panels.snapshot(1000)
    for number in range(sources):
        assert restored.snapshot(1000, f"s{number}.log") == panels.snapshot(1000, f"s{number}.log")


def test_a_damaged_checkpoint_of_the_panels_is_refused_with_a_reason() -> None:
    panels = _fed([[(0, "/a", 200, "10.0.0.1", CHROME, None, None)]], 1)
    saved = panels.to_state()
    saved["sources"]["s0.log"]["panels"]["paths"] = "not base64 rows!"
    with pytest.raises(ValueError, match="unreadable panel rows"):
        WebPanels(100).load_state(saved)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32))
def test_each_source_has_its_own_chart_and_they_sum_to_every_source(seed: int) -> None:
    rng = random.Random(seed)
    windows = Windows(keep_seconds=30, lateness_seconds=5)
    seen: Counter[tuple[str, int]] = Counter()  # (source, 10 s span)
    last = 0
    for start in range(0, 400, 7):
        source = rng.choice(("a.log", "b.log"))
        seconds = sorted(start + rng.randrange(7) for _ in range(rng.randrange(12)))
        if seconds:
            windows.add(_records(seconds, [200] * len(seconds)), BASE + seconds[-1], source)
            last = max(last, seconds[-1])
        for second in seconds:
            seen[source, second - second % 10] += 1
    assert windows.source_rollup["a.log"] or windows.source_rollup["b.log"]  # evicted seconds rolled up
    every = windows.rates(BASE, BASE + last, ROLLUP_SECONDS)
    by_source = {name: windows.rates(BASE, BASE + last, ROLLUP_SECONDS, name) for name in ("a.log", "b.log")}
    for index, (first, hits, _e4, _e5) in enumerate(every):
        assert hits == sum(by_source[name][index][1] for name in by_source)
        for name, points in by_source.items():
            assert points[index][1] == seen[name, first - BASE], (name, first)
    assert len(windows.source_seconds["a.log"]) <= 31 and len(windows.source_seconds["b.log"]) <= 31
    assert windows.rates(BASE, BASE + last, 60, "nope") == [
        (s, 0, 0, 0) for s, *_ in windows.rates(BASE, BASE + last, 60)
    ]
