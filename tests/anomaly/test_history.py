"""History rings and the detectors' checkpoint: a restart keeps the baseline."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly.anomaly_helpers import DAY0, detectors, step
from loglens.anomaly.history import MISSING, Ring, decode, encode
from loglens.state.checkpoint import CheckpointStore, Snapshot


@given(st.lists(st.integers(0, int(MISSING)), max_size=300))
def test_encode_round_trips(values: list[int]) -> None:
    array = np.array(values, dtype=np.uint32)
    assert decode(encode(array), array.size).tolist() == values
    assert (decode(encode(array), array.size + 1) == MISSING).all()  # a ring of another size: nothing


@settings(max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=30))
def test_fill_is_seconds_of_zeros(gaps: list[tuple[int, bool]]) -> None:
    """Filling a gap is counting its seconds one by one as 0 (seen or not)."""
    bulk, single = Ring(60, 4), Ring(60, 4)
    second = 0
    for gap, seen in gaps:
        bulk.fill(second, second + gap - 1, seen)
        for each in range(second, second + gap):
            single.add(each, 0, seen)
        second += gap
        bulk.add(second, 3)
        single.add(second, 3)
        second += 1
    assert [bulk.at(i) for i in range(-10, second // 60 + 2)] == [
        single.at(i) for i in range(-10, second // 60 + 2)
    ]


def test_a_minute_not_wholly_seen_is_missing() -> None:
    ring = Ring(60, 10)
    for second in range(30, 200):
        ring.add(second, 1)
    assert [ring.at(i) for i in range(4)] == [None, 60, 60, None]  # minute 0 from :30 only, 3 open


def test_a_restart_keeps_the_baseline_and_the_anomalies() -> None:
    found = detectors()
    step(found, DAY0, DAY0 + 1800, lambda s: 10)
    step(found, DAY0 + 1800, DAY0 + 1810, lambda s: 100)
    state = json.loads(json.dumps(found.to_state()))
    again = detectors()
    again.restore(state)
    assert again.series["hits"].zscore() == found.series["hits"].zscore()
    assert again.anomalies() == found.anomalies() and again.totals == found.totals
    # down for ten minutes: those minutes are missing, not zeros, and the baseline stands
    step(again, DAY0 + 2410, DAY0 + 2470, lambda s: 10)
    assert again.series["hits"].zscore() == found.series["hits"].zscore()
    assert again.series["hits"].minutes.at((DAY0 + 2000) // 60) is None
    assert again.scores[("zscore", "hits")].score == 0 and len(again.anomalies()) == 1
    assert again.anomalies()[0].end is not None  # the spike's anomaly ended once it was over


def test_the_checkpoint_holds_the_detectors(tmp_path: object) -> None:
    found = detectors(history_days=28)
    step(found, DAY0, DAY0 + 3600, lambda s: 10)
    store = CheckpointStore(tmp_path)  # type: ignore[arg-type]
    try:
        store.save(Snapshot(anomaly=found.to_state()))
        loaded = store.load()
    finally:
        store.close()
    assert loaded is not None
    again = detectors(history_days=28)
    again.restore(loaded.anomaly)
    assert again.series["hits"].slots.at(DAY0 // 900 + 2) == 9000
    assert len(json.dumps(loaded.anomaly)) < 20_000  # 28 days of slots of 4 series, compressed
