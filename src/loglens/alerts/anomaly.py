"""``anomaly`` rules: a rate detector's score of one series (:mod:`loglens.anomaly.rates`), compared with
the rule's threshold. The detectors count the records; the rule only reads their latest score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from loglens.alerts.config import Anomaly
from loglens.alerts.rules import Rule
from loglens.alerts.series import Group

if TYPE_CHECKING:
    from loglens.anomaly.rates import RateDetectors


class AnomalyRule(Rule):
    """The score of ``spec.series`` by ``spec.detector`` (no value while the baseline warms up)."""

    kind = "anomaly"

    def __init__(self, name: str, spec: Anomaly, threshold: float, **options: Any) -> None:
        self.spec = spec
        self.detectors: RateDetectors | None = None
        label = {"new_pattern": "new templates", "pattern_rate": "pattern_rate score"}.get(
            spec.detector, f"{spec.detector} score of {spec.series}"
        )
        super().__init__(name, threshold, 1, label=options.pop("label", label), **options)

    def bind(self, detectors: RateDetectors) -> None:
        """Read the scores of ``detectors``."""
        self.detectors = detectors

    def fold(self, frame: pl.DataFrame, source: str) -> None:
        """Nothing: the detectors count the records."""

    def measure(self, now: int) -> dict[Group, float | None]:
        """The score the detectors gave at ``now`` (they are evaluated first)."""
        if self.detectors is None:
            return {}
        value = self.detectors.value(self.spec.detector, self.spec.key, self.spec.direction)
        return {} if value is None else {(): value}
