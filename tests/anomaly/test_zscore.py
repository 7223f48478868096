"""The zscore detector with stepped seconds: warm-up, detection, quiet series, steady traffic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly.anomaly_helpers import DAY0, detectors, poisson, step


def test_no_score_before_the_warm_up_then_scores() -> None:
    found = detectors(warmup_minutes=10)
    step(found, DAY0, DAY0 + 10 * 60, lambda s: 20)  # the first minute is whole: DAY0 starts one
    assert ("zscore", "hits") not in found.scores
    step(found, DAY0 + 600, DAY0 + 601, lambda s: 20)
    assert found.scores[("zscore", "hits")].expected == 100
    assert found.value("zscore", "hits", "both") == 0


def test_a_spike_during_the_warm_up_is_no_anomaly() -> None:
    found = detectors(warmup_minutes=10)
    step(found, DAY0, DAY0 + 300, lambda s: 200 if s > DAY0 + 200 else 10)
    assert not found.anomalies() and found.totals["zscore"] == 0


def test_a_spike_and_a_drop_are_detected_within_seconds() -> None:
    found = detectors()
    start = DAY0 + 30 * 60
    step(found, DAY0, start, poisson(lambda s: 10))
    step(found, start, start + 30, poisson(lambda s: 50, 1))
    (spike,) = found.anomalies()
    assert (spike.detector, spike.series, spike.end) == ("zscore", "hits", None)
    assert spike.at - start <= 2 and spike.score >= 6 and 45 <= spike.baseline <= 55
    step(found, start + 30, start + 60, poisson(lambda s: 10, 2))
    assert spike.end is not None and spike.peak >= spike.score
    step(found, start + 60, start + 70, lambda s: 0)
    drop = found.anomalies()[0]
    assert drop.score <= -6 and drop.observed < drop.baseline and drop.at - (start + 60) <= 5
    assert found.totals["zscore"] == 2 and found.last_at["zscore"] == drop.at
    assert found.value("zscore", "hits", "down") == -found.scores[("zscore", "hits")].score


def test_a_quiet_series_raises_no_noise() -> None:
    """Half a request a second, then bursts of 8: under min_count observed, no anomaly."""
    found = detectors()
    step(found, DAY0, DAY0 + 1800, poisson(lambda s: 0.5))
    step(found, DAY0 + 1800, DAY0 + 1805, lambda s: 8 if s % 5 == 0 else 0)
    assert not found.anomalies()
    assert found.scores[("zscore", "hits")].score == 0  # 8 observed, under min_count


def test_errors_that_are_usually_none_burst() -> None:
    found = detectors()
    start = DAY0 + 1800
    step(found, DAY0, start + 5, lambda s: 10, lambda s: 10 if s >= start else 0)
    (burst,) = found.anomalies()
    assert (burst.series, burst.baseline) == ("5xx", 0) and burst.at - start <= 2


# Derandomized: steady Poisson traffic does reach 6 sigma now and then (a 5xx second of 2 where 20 are
# usual is one in a few million), and a detector that flags it is right; the examples are fixed so that
# the test says whether ordinary traffic raises anomalies, not whether a run drew a rare second.
@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(rate=st.floats(0.05, 300), seed=st.integers(0, 1000))
def test_steady_poisson_traffic_raises_no_anomaly(rate: float, seed: int) -> None:
    found = detectors()
    step(found, DAY0, DAY0 + 2 * 3600, poisson(lambda s: rate, seed), poisson(lambda s: rate / 50, seed + 1))
    assert found.anomalies() == []
