"""``loglens_anomaly_score`` on /metrics: a sample for every series and detector that will score it, NaN
until its baseline is warm, so dashboards and ``rate()`` see the series from the start."""

from __future__ import annotations

import math

from prometheus_client.core import Metric

from anomaly.anomaly_helpers import DAY0, step
from loglens.config import Settings
from loglens.exposition.runtime import RuntimeCollector
from loglens.runtime import Runtime


def scores(runtime: Runtime) -> dict[tuple[str, str], float]:
    families: dict[str, Metric] = {f.name: f for f in RuntimeCollector(runtime.query).collect()}
    samples = families["loglens_anomaly_score"].samples
    return {(s.labels["detector"], s.labels["series"]): s.value for s in samples}


def test_the_request_series_have_a_nan_score_before_any_record_then_zscore_scores_once_warm() -> None:
    runtime = Runtime(Settings(anomaly={"warmup_minutes": 1}), [], checkpoint=False)
    assert runtime.detectors is not None
    before = scores(runtime)
    expected = {
        (detector, series) for detector in ("zscore", "seasonal") for series in ("hits", "4xx", "5xx")
    }
    assert set(before) == expected
    assert all(math.isnan(value) for value in before.values())

    step(runtime.detectors, DAY0, DAY0 + 150, lambda second: 20)
    warm = scores(runtime)
    assert set(warm) == expected
    assert not math.isnan(warm["zscore", "hits"])  # a complete minute kept: zscore scores
    assert math.isnan(warm["seasonal", "hits"])  # no earlier day yet
    runtime.close()


def test_a_series_kept_later_has_its_nan_sample_from_its_first_record() -> None:
    runtime = Runtime(Settings(), [], checkpoint=False)
    assert runtime.detectors is not None
    runtime.detectors.count(DAY0 + 1, "source:app", 3)
    runtime.detectors.evaluate(DAY0 + 2)  # counts second DAY0 + 1
    found = scores(runtime)
    assert math.isnan(found["zscore", "source:app"]) and math.isnan(found["seasonal", "source:app"])
    runtime.detectors.count(DAY0 + 2, "pattern:7", 12)
    runtime.detectors.evaluate(DAY0 + 3)
    found = scores(runtime)
    assert math.isnan(found["pattern_rate", "pattern:7"])
    assert ("zscore", "pattern:7") not in found  # a template's rate is scored by pattern_rate alone
    runtime.close()
