"""``anomaly:`` alert rules: the config, firing and recovering on a detector's score, the export."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from anomaly.anomaly_helpers import DAY0, detectors
from loglens.aggregate.windows import SecondStats
from loglens.alerts.anomaly import AnomalyRule
from loglens.alerts.config import RuleConfig
from loglens.alerts.engine import AlertEngine
from loglens.alerts.export import expression
from loglens.alerts.rules import rule_of
from loglens.clock import FrozenClock


def config(**anomaly: Any) -> RuleConfig:
    return RuleConfig.model_validate({"name": "unusual", "anomaly": anomaly, "threshold": 6})


def test_the_config_names_a_detector_and_a_series() -> None:
    assert (
        config(detector="seasonal", series="error").anomaly
        == config(detector="seasonal", series="ERROR").anomaly
    )
    assert config(detector="zscore").kind == "anomaly"
    assert config(detector="zscore", series="source:web").anomaly is not None
    bad_series = "is not one of hits, 4xx, 5xx, a level or source:NAME"
    detectors = "'zscore', 'seasonal', 'new_pattern' or 'pattern_rate'"
    for bad, why in [({"detector": "drain"}, detectors), ({"series": "6xx"}, bad_series)]:
        with pytest.raises(ValidationError, match=why):
            config(**{"detector": "zscore", **bad})
    with pytest.raises(ValidationError, match="takes no by:"):
        RuleConfig.model_validate(
            {"name": "x", "anomaly": {"detector": "zscore"}, "threshold": 6, "by": ["source"]}
        )


def test_export_compares_the_score_metric() -> None:
    assert (
        expression(config(detector="zscore"))
        == 'abs(loglens_anomaly_score{detector="zscore",series="hits"}) >= 6'
    )
    assert expression(config(detector="seasonal", series="5xx", direction="down")).startswith(
        "-loglens_anomaly_score"
    )


def test_a_rule_fires_on_the_score_and_recovers() -> None:
    found = detectors()
    rule = rule_of(config(detector="zscore", series="hits", direction="up"))
    assert isinstance(rule, AnomalyRule) and rule.measure(DAY0) == {}  # not bound yet
    rule.bind(found)
    engine = AlertEngine(found.windows, [rule], FrozenClock(DAY0), detectors=found)
    spike = DAY0 + 1800
    events = []
    for second in range(DAY0, spike + 60):
        found.windows.buckets[second] = SecondStats(hits=60 if spike <= second < spike + 20 else 10)
        events += engine.advance_to(second + 1)
    assert rule.measure(spike + 60) == {(): 0.0}
    fire, recover = events
    assert (fire.kind, recover.kind) == ("fire", "recover")
    assert fire.at - spike <= 2 and fire.value is not None and fire.value >= 6
    assert fire.message.startswith("unusual generated an alert - zscore score of hits = ")
    assert found.totals["zscore"] == 1  # the detector counted it too, rule or not


def test_an_engine_without_rules_still_scores() -> None:
    found = detectors(warmup_minutes=1)
    engine = AlertEngine(found.windows, [], FrozenClock(DAY0), detectors=found)
    for second in range(DAY0, DAY0 + 130):
        found.windows.buckets[second] = SecondStats(hits=10)
        engine.advance_to(second + 1)
    assert found.scores[("zscore", "hits")].expected == 50
