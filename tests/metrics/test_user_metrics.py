"""User metric rules folded batch by batch: against a plain-Python reference, bounded, gauges, checkpoint."""

from __future__ import annotations

import re
import resource
from collections import Counter

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.metrics.config import MetricConfig
from loglens.metrics.state import UserMetrics
from loglens.records import Batch, empty_records


def _batch(lines: list[str]) -> Batch:
    return Batch("app", empty_records(), len(lines), raw=pl.Series("line", lines, dtype=pl.String))


def _metrics(*rules: dict[str, object], ttl: float = 600) -> UserMetrics:
    return UserMetrics([MetricConfig.model_validate(rule) for rule in rules], ttl)


WORDS = st.sampled_from(["ok", "failed", "svc=a", "svc=b", "svc=", "n=3", "n=12", "n=x", "é", " "])
LINES = st.lists(st.lists(WORDS, max_size=6).map(" ".join), max_size=40)


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(LINES, min_size=1, max_size=4))
def test_counters_match_a_python_reference(batches: list[list[str]]) -> None:
    metrics = _metrics(
        {"name": "failed_total", "type": "counter", "match": r"failed.*svc=(?P<svc>\w*)", "labels": ["svc"]},
        {"name": "n_total", "type": "counter", "match": r"n=(?P<n>\d+)", "value": "n"},
        {"name": "n_last", "type": "gauge", "match": r"n=(?P<n>\d+)", "value": "n"},
    )
    failed: Counter[tuple[str, ...]] = Counter()
    total, last = 0.0, None
    for lines in batches:
        metrics.update(_batch(lines), 0)
        for line in lines:
            if found := re.search(r"failed.*svc=(?P<svc>\w*)", line):
                failed[(found["svc"],)] += 1
            if found := re.search(r"n=(?P<n>\d+)", line):
                total, last = total + int(found["n"]), float(found["n"])
    assert metrics.metrics["failed_total"].series == {key: [float(n)] for key, n in failed.items()}
    assert metrics.metrics["n_total"].series == ({(): [total]} if last is not None else {})
    assert metrics.metrics["n_last"].series == ({(): [last]} if last is not None else {})


def test_histogram_buckets_are_le() -> None:
    metrics = _metrics(
        {"name": "t", "type": "histogram", "match": r"t=(?P<t>\S+)", "value": "t", "buckets": [1, 2]}
    )
    metrics.update(_batch(["t=0", "t=1", "t=1.5", "t=2", "t=9", "t=nan", "t=x"]), 0)
    assert metrics.metrics["t"].series == {(): [2.0, 4.0, 5.0, 13.5]}  # le=1, le=2, count, sum


def test_max_gauge_is_the_max_since_the_last_scrape() -> None:
    metrics = _metrics(
        {"name": "q", "type": "gauge", "match": r"q=(?P<q>\d+)", "value": "q", "aggregate": "max"}
    )
    metrics.update(_batch(["q=5", "q=9", "q=2"]), 0)
    metrics.update(_batch(["q=7"]), 0)
    assert metrics.metrics["q"].series[()] == [9.0]
    metrics.scraped()
    metrics.update(_batch(["q=3"]), 0)
    assert metrics.metrics["q"].series[()] == [3.0]


def test_a_million_label_values_stay_within_the_limit() -> None:
    metrics = _metrics(
        {
            "name": "ids_total",
            "type": "counter",
            "match": r"id=(?P<id>\d+)",
            "labels": ["id"],
            "max_series": 1000,
        }
    )
    rss = []
    for start in range(0, 1_000_000, 50_000):
        metrics.update(_batch([f"id={n}" for n in range(start, start + 50_000)]), 0)
        rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    state = metrics.metrics["ids_total"]
    assert len(state.series) == 1000 and state.dropped == 999_000
    assert rss[-1] - rss[2] < 20_000, rss  # KiB: flat once the first batches are in


def test_checkpoint_state_round_trips_and_expiry_makes_room() -> None:
    rule = {"name": "s_total", "type": "counter", "match": r"s=(?P<s>\w+)", "labels": ["s"], "max_series": 2}
    metrics = _metrics(rule, ttl=10)
    metrics.update(_batch(["s=a", "s=b", "s=c"]), 0)
    restored = _metrics(rule, ttl=10)
    restored.load_state(metrics.to_state(), 0)
    assert restored.to_state() == metrics.to_state()
    restored.update(_batch(["s=b"]), 8)
    restored.expire(12)
    restored.update(_batch(["s=c"]), 12)
    assert restored.metrics["s_total"].series == {("b",): [2.0], ("c",): [1.0]}
