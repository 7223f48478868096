"""The pattern detectors with stepped seconds: warm-up, new_pattern, pattern_rate on a template's surge
and not on steady traffic, and the templates kept across a restart."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import polars as pl

from anomaly.anomaly_helpers import detectors
from loglens.anomaly.rates import RateDetectors
from loglens.records import Batch, conform

START = 1_793_577_600
KINDS = ("user {n} logged in from 10.0.{m}.7", "cache miss for key item:{n}", "job {n} finished in {m} ms")


def second_of(found: RateDetectors, second: int, messages: list[str], source: str = "app") -> None:
    """``messages`` as application records of ``second``, folded as the runtime folds a batch."""
    if messages:
        ts = [datetime.fromtimestamp(second, UTC)] * len(messages)
        records = conform(pl.DataFrame({"ts": ts, "level": ["INFO"] * len(messages), "message": messages}))
        records = records.with_columns(line=pl.int_range(len(messages), dtype=pl.UInt32))
        assert found.mining is not None
        found.mining.mine(Batch(source, records, len(messages)), second)
        found.windows.add(records, second, source)
    found.evaluate(second + 1)


def steady(found: RateDetectors, start: int, end: int, rate: float, seed: int = 0) -> None:
    """Seconds of the three known kinds of line, ``rate`` a second in all (Poisson)."""
    draw = np.random.default_rng(seed)
    for second in range(start, end):
        count = int(draw.poisson(rate))
        second_of(found, second, [KINDS[n % 3].format(n=n + second, m=n % 9) for n in range(count)])


def news(found: RateDetectors) -> list[tuple[int, str | None]]:
    return [(a.at, a.example) for a in found.anomalies() if a.detector == "new_pattern"]


def test_a_new_kind_of_line_after_the_warm_up_is_a_new_pattern_and_the_known_ones_are_not() -> None:
    found = detectors(pattern_warmup=100)
    steady(found, START, START + 60, 6)
    assert news(found) == []  # three kinds, all first seen during the warm-up
    second_of(found, START + 60, ["user 99 logged in from 10.0.3.7", "disk full on /dev/sda1"])
    assert news(found) == [(START + 60, "disk full on /dev/sda1")]
    assert found.value("new_pattern", "source:app", "both") == 1
    assert found.value("new_pattern", "source:web", "both") == 0
    steady(found, START + 61, START + 70, 6)
    assert found.value("new_pattern", "", "both") == 0  # out of the 5 s window
    assert found.totals["new_pattern"] == 1


def test_during_the_warm_up_a_new_kind_is_not_an_anomaly() -> None:
    found = detectors(pattern_warmup=1000)
    steady(found, START, START + 10, 6)
    second_of(found, START + 10, ["disk full on /dev/sda1"])
    assert news(found) == []


def test_a_template_whose_rate_jumps_is_a_pattern_rate_anomaly_and_steady_traffic_is_not() -> None:
    found = detectors(warmup_minutes=15, baseline_minutes=30)
    steady(found, START, START + 30 * 60, 12, seed=1)
    assert [a for a in found.anomalies() if a.detector == "pattern_rate"] == []
    surge = START + 30 * 60
    for second in range(surge, surge + 10):
        lines = [f"cache miss for key item:{second * 100 + n}" for n in range(40)]  # 10x its own rate
        second_of(found, second, lines)
    rates = [a for a in found.anomalies() if a.detector == "pattern_rate"]
    assert rates, found.scores
    assert rates[0].at - surge <= 5
    assert rates[0].example is not None and rates[0].example.startswith("cache miss for key")
    assert (found.value("pattern_rate", "", "both") or 0) >= found.config.threshold


def test_the_templates_survive_a_restart() -> None:
    found = detectors(pattern_warmup=10)
    steady(found, START, START + 30, 6)
    second_of(found, START + 30, ["disk full on /dev/sda1"])
    state = found.to_state()
    again = detectors(pattern_warmup=10)
    again.restore(state)
    assert again.mining is not None and found.mining is not None
    assert Counter(t.template for t in again.mining.miner.templates()) == Counter(
        t.template for t in found.mining.miner.templates()
    )
    second_of(again, START + 31, ["disk full on /dev/sdb2", "job 5 finished in 3 ms"])
    assert news(again) == [(START + 30, "disk full on /dev/sda1")]  # the old one, restored; nothing new
