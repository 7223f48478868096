"""Alert rules: what each measures over its event-time window, per group, and when that is alarming.

A rule folds every batch of records into its own :class:`~loglens.alerts.series.Series` (the runtime
hands it the records the windows keep, late and future ones left out alike) and :meth:`Rule.measure`
reads the window ending at a second: one value per group (``by:``), None where there is none (a ratio
over no request). The engine (:mod:`loglens.alerts.engine`) turns values into pending, firing and
resolved alerts. The kinds: ``rate`` and ``count`` (:class:`CountRule`), ``ratio`` (:class:`RatioRule`),
``quantile`` (:class:`QuantileRule`), ``anomaly`` (:class:`loglens.alerts.anomaly.AnomalyRule`).
"""

from __future__ import annotations

import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import polars as pl

from loglens.aggregate.counters import valid_durations
from loglens.alerts.config import Match, RuleConfig
from loglens.alerts.series import LOG_GAMMA, ZERO_BUCKET, Group, Series, quantile

#: How alert times are written everywhere (messages, alert files, ``/api/alerts``): RFC 3339, UTC, to
#: the second.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Groups one rule keeps apart (the rest are pooled): input cannot make alerts without bound.
MAX_GROUPS = 100
#: Seconds a rule keeps behind its window by default, for lines that arrive late.
DEFAULT_LATENESS = 120
OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_TEMPLATE = re.compile(r"\{\{\s*\$?(?:labels\.)?(\w+)\s*\}\}")


def format_time(second: float) -> str:
    """``second`` (epoch seconds) as RFC 3339 UTC, like ``2026-12-01T07:56:43Z``."""
    return datetime.fromtimestamp(int(second), UTC).strftime(TIME_FORMAT)


def human_duration(seconds: float) -> str:
    """``184`` -> ``3m04s``."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def render(template: str, values: Mapping[str, str]) -> str:
    """``{{ source }}`` (also ``{{ $labels.source }}``, ``{{ $value }}``) replaced by its value; an
    unknown name by nothing."""
    return _TEMPLATE.sub(lambda match: values.get(match[1], ""), template)


class Rule(ABC):
    """A value over the last ``window_seconds`` seconds, per group, compared with ``threshold``.

    Attributes:
        name: stable identifier (alert files, metrics, ``alertname``).
        title: how messages name the alert, e.g. ``High traffic``.
        label: what the value is called in messages, e.g. ``hits``.
        kind: ``rate``, ``count``, ``ratio``, ``quantile`` or ``anomaly``.
        by: the record fields whose values make one alert each.
        for_seconds: breached this long (pending) before it fires.
        keep_firing_seconds: fires on this long after it stops being breached.
    """

    kind: str
    #: How the value is written in messages.
    value_format = "{:.1f}"

    def __init__(
        self,
        name: str,
        threshold: float,
        window_seconds: float,
        *,
        op: str = ">=",
        for_seconds: float = 0,
        keep_firing_seconds: float = 0,
        by: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        title: str | None = None,
        label: str | None = None,
        lateness_seconds: float = DEFAULT_LATENESS,
        width: int = 1,
    ) -> None:
        if window_seconds < 1:
            raise ValueError("window_seconds must be >= 1")
        self.name = name
        self.threshold = threshold
        self.window_seconds = int(window_seconds)
        self.op = op
        self.compare = OPS[op]
        self.for_seconds = int(for_seconds)
        self.keep_firing_seconds = int(keep_firing_seconds)
        self.by = tuple(by)
        self.labels = dict(labels or {})
        self.annotations = dict(annotations or {})
        self.title = title or name
        self.label = label or self.kind
        keep = self.window_seconds + int(lateness_seconds) + 1
        self.series = Series(width, self.window_seconds, keep, MAX_GROUPS)

    @abstractmethod
    def fold(self, frame: pl.DataFrame, source: str) -> None:
        """Fold records (with their event second in ``sec``) of ``source`` in."""

    @abstractmethod
    def measure(self, now: int) -> dict[Group, float | None]:
        """The value of each group over the seconds ``s`` with ``now - window_seconds < s <= now``."""

    def breached(self, value: float | None) -> bool:
        """Whether ``value`` is alarming (no value never is)."""
        return value is not None and self.compare(value, self.threshold)

    def group_labels(self, group: Group) -> dict[str, str]:
        """The labels that tell the group's alert from the rule's others."""
        return dict(zip(self.by, group, strict=True))

    def rendered(self, group: Group, value: float) -> dict[str, str]:
        """The annotations for ``group`` at ``value``."""
        values = {**self.labels, **self.group_labels(group), "rule": self.name,
                  "value": self.value_format.format(value), "threshold": f"{self.threshold:g}"}  # fmt: skip
        return {key: render(template, values) for key, template in self.annotations.items()}

    def _named(self, group: Group) -> str:
        labels = self.group_labels(group)
        return self.title + ("{" + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")

    def fire_message(self, value: float, at: float, group: Group = ()) -> str:
        """The line shown and logged when the rule fires."""
        shown, when = self.value_format.format(value), format_time(at)
        return f"{self._named(group)} generated an alert - {self.label} = {shown}, triggered at {when}"

    def recover_message(self, value: float | None, at: float, group: Group = ()) -> str:
        """The line shown and logged when the rule recovers."""
        shown = "none" if value is None else self.value_format.format(value)
        return f"{self._named(group)} alert recovered at {format_time(at)} - {self.label} = {shown}"

    def _grouped(self, frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[str]]:
        """``frame`` with one string column per ``by:`` field (``g0``, ``g1``...), and their names."""
        columns = []
        for n, field in enumerate(self.by):
            value = pl.lit(source) if field == "source" else pl.col(field).cast(pl.String)
            columns.append(value.fill_null("").alias(f"g{n}"))
        return frame.with_columns(columns) if columns else frame, [f"g{n}" for n in range(len(self.by))]

    def _columns(self, counts: pl.DataFrame, keys: list[str]) -> tuple[list[int], Iterable[Group]]:
        """The seconds and groups of a group-by's rows."""
        groups = zip(*(counts[key].to_list() for key in keys), strict=True) if keys else repeat(())
        return counts["sec"].to_list(), groups

    def _counts(
        self, frame: pl.DataFrame, match: Match, source: str
    ) -> tuple[list[int], Iterable[Group], list[int]]:
        """The seconds, groups and counts of the records ``match`` selects."""
        selected = select(frame, match, source)
        if selected is None or selected.is_empty():
            return [], (), []
        grouped, keys = self._grouped(selected, source)
        counts = grouped.group_by("sec", *keys).len()
        return *self._columns(counts, keys), counts["len"].to_list()


def select(frame: pl.DataFrame, match: Match, source: str) -> pl.DataFrame | None:
    """The records of ``source`` that ``match`` selects (None: none of this source can be)."""
    if match.source is not None and match.source != source:
        return None
    conditions = [] if match.all_records else [pl.col("status").is_not_null()]
    for field in ("level", "section", "method", "service"):
        value = getattr(match, field)
        if value is not None:
            conditions.append(pl.col(field) == value)
    if match.message is not None:
        conditions.append(pl.col("message").str.contains(match.message))
    if match.status is not None:
        if match.status.endswith("xx"):
            conditions.append(pl.col("status") // 100 == int(match.status[0]))
        else:
            conditions.append(pl.col("status") == int(match.status))
    return frame.filter(pl.all_horizontal(conditions)) if conditions else frame


class CountRule(Rule):
    """``count``: matching records in the window; ``rate`` (``per_second``): that over its seconds."""

    value_format = "{:.0f}"

    def __init__(self, name: str, match: Match, threshold: float, window_seconds: float, *,
                 per_second: bool = False, **options: Any) -> None:  # fmt: skip
        self.kind = "rate" if per_second else "count"
        if per_second:
            self.value_format = "{:.1f}"
        self.match = match
        super().__init__(name, threshold, window_seconds, **options)

    def fold(self, frame: pl.DataFrame, source: str) -> None:
        seconds, groups, counts = self._counts(frame, self.match, source)
        self.series.add_rows(seconds, groups, ((count,) for count in counts))

    def measure(self, now: int) -> dict[Group, float | None]:
        """Per group; an ungrouped rule is 0 over a window without a match."""
        scale = self.window_seconds if self.kind == "rate" else 1
        values: dict[Group, float | None] = {} if self.by else {(): 0.0}
        values.update({group: sums[0] / scale for group, sums in self.series.window_at(now).items()})
        return values


class HitRateRule(CountRule):
    """High traffic: the hits of the last ``window_seconds`` seconds divided by ``window_seconds``, at or
    over ``threshold`` (the console's alert, and ``loglens run``'s built-in one)."""

    def __init__(
        self, threshold: float, window_seconds: float, for_seconds: float = 0, **options: Any
    ) -> None:
        super().__init__("high_traffic", Match(), threshold, window_seconds, per_second=True,
                         for_seconds=for_seconds, title="High traffic", label="hits", **options)  # fmt: skip


class RatioRule(Rule):
    """``ratio``: numerator matches over denominator matches (no value while the denominator is 0)."""

    kind = "ratio"
    value_format = "{:.3f}"

    def __init__(self, name: str, numerator: Match, denominator: Match, threshold: float,
                 window_seconds: float, **options: Any) -> None:  # fmt: skip
        self.numerator, self.denominator = numerator, denominator
        super().__init__(name, threshold, window_seconds, width=2, **options)

    def fold(self, frame: pl.DataFrame, source: str) -> None:
        seconds, groups, counts = self._counts(frame, self.numerator, source)
        self.series.add_rows(seconds, groups, ((count, 0) for count in counts))
        seconds, groups, counts = self._counts(frame, self.denominator, source)
        self.series.add_rows(seconds, groups, ((0, count) for count in counts))

    def measure(self, now: int) -> dict[Group, float | None]:
        return {g: (n / d if d else None) for g, (n, d) in self.series.window_at(now).items()}


class QuantileRule(Rule):
    """``quantile``: the ``q`` quantile of ``of`` (duration or bytes) of the matching requests."""

    kind = "quantile"
    value_format = "{:.3f}"

    def __init__(self, name: str, match: Match, q: float, of: str, threshold: float,
                 window_seconds: float, **options: Any) -> None:  # fmt: skip
        self.match, self.q, self.of = match, q, of
        super().__init__(name, threshold, window_seconds, width=0, **options)

    def fold(self, frame: pl.DataFrame, source: str) -> None:
        selected = select(frame, self.match, source)
        if selected is None or selected.is_empty():
            return
        value = (
            valid_durations(pl.col(self.of)) if self.of == "duration" else pl.col(self.of).cast(pl.Float64)
        )
        grouped, keys = self._grouped(selected.with_columns(v=value).drop_nulls("v"), source)
        bucket = pl.when(pl.col("v") > 0).then((pl.col("v").log() / LOG_GAMMA).ceil()).otherwise(ZERO_BUCKET)
        counts = grouped.group_by("sec", *keys, b=bucket.cast(pl.Int64)).len()
        seconds, groups = self._columns(counts, keys)
        self.series.add_rows(
            seconds, groups, ({i: n} for i, n in zip(counts["b"], counts["len"], strict=True))
        )

    def measure(self, now: int) -> dict[Group, float | None]:
        return {group: quantile(histogram, self.q) for group, histogram in self.series.window_at(now).items()}


def rule_of(config: RuleConfig, lateness_seconds: float = DEFAULT_LATENESS) -> Rule:
    """The rule a ``alerts:`` entry describes."""
    options: dict[str, Any] = {
        "op": config.op,
        "for_seconds": config.for_,
        "keep_firing_seconds": config.keep_firing_for,
        "by": config.by,
        "labels": config.labels,
        "annotations": config.annotations,
        "lateness_seconds": lateness_seconds,
    }
    name, threshold, window = config.name, config.threshold, config.window
    if config.anomaly is not None:
        from loglens.alerts.anomaly import AnomalyRule  # it subclasses Rule

        return AnomalyRule(name, config.anomaly, threshold, **options)
    if config.rate is not None:
        return CountRule(name, config.rate, threshold, window, per_second=True, **options)
    if config.count is not None:
        return CountRule(name, config.count, threshold, window, **options)
    if config.ratio is not None:
        return RatioRule(name, config.ratio.numerator, config.ratio.denominator, threshold, window, **options)
    assert config.quantile is not None
    spec = config.quantile
    return QuantileRule(name, spec, spec.q, spec.of, threshold, window, **options)
