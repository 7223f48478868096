"""The ``metrics:`` section: one rule per user metric, checked whole at load.

Every problem of a rule is reported on one line that names it (``metric 'x': ...``): a name or label
Prometheus would refuse, a regex polars cannot compile, a label or value naming no group or field, a
name taken by loglens's own metrics, by pushed metrics, or by another user metric of another type.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, field_validator, model_validator

from loglens.alerts.config import Match, _Strict, seconds_of
from loglens.metric_names import NAME, reserved_prefix

#: Prometheus metric and label names (colons are left to recording rules, as elsewhere in loglens).
#: Record fields a label may take its value from (``source``: the line's source; ``kind``: access or
#: application).
LABEL_FIELDS = (
    "source", "kind", "method", "status", "section", "level", "service", "client", "user", "path",
    "protocol", "referer", "agent",
)  # fmt: skip
#: Record fields a value may be read from.
VALUE_FIELDS = ("bytes", "duration", "status")
#: Prometheus's default histogram buckets.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The group each compiled pattern is wrapped in: null exactly where the line does not match.
MATCH_GROUP = "__loglens_match"
MetricType = Literal["counter", "gauge", "histogram"]


def regex_groups(pattern: str) -> list[str]:
    """The group names of ``pattern`` as polars numbers and names them (``1`` for an unnamed one).

    Raises:
        ValueError: polars (Rust's regex: no look-around, no backreferences) cannot compile it.
    """
    import polars as pl

    try:
        dtype = pl.Series([""], dtype=pl.String).str.extract_groups(pattern).dtype
    except pl.exceptions.ComputeError as exc:
        why = next((line for line in str(exc).splitlines() if line.startswith("error:")), "")
        raise ValueError(why.removeprefix("error: ") or "it does not parse") from None
    assert isinstance(dtype, pl.Struct)
    return [field.name for field in dtype.fields]


class Where(Match):
    """Filters on parsed fields; every given one must hold. Empty: every parsed record."""

    kind: Literal["access", "application"] | None = Field(
        default=None, description="access records (with a status) or application lines"
    )

    @property
    def all_records(self) -> bool:
        """Always: a user metric's ``where`` does not default to requests only."""
        return True


class MetricConfig(_Strict):
    """One user metric: which lines count, with which labels, and by how much."""

    name: str
    type: MetricType
    help: str = ""
    match: str | None = Field(default=None, description="a regex searched in the raw line; named groups")
    where: Where | None = Field(default=None, description="filters on the parsed fields")
    labels: list[str] = Field(default_factory=list, description="named groups or record fields")
    value: str | None = Field(default=None, description="a named group or a numeric field")
    buckets: list[float] | None = Field(default=None, description="histogram upper bounds (le)")
    aggregate: Literal["last", "max", "min"] | None = Field(
        default=None, description="gauge: the last value, or the max or min since the previous scrape"
    )
    sources: list[str] = Field(default_factory=list, description="only lines of these sources")
    max_series: int = Field(default=1000, ge=1, description="label sets kept; more are dropped, counted")
    ttl: float | None = Field(
        default=None, gt=0, description="idle series expire; default limits.series_ttl_seconds"
    )

    _ttl = field_validator("ttl", mode="before")(seconds_of)

    @model_validator(mode="after")
    def _whole(self) -> MetricConfig:
        problems = list(self._problems())
        if problems:
            raise ValueError("\n".join(f"metric {self.name!r}: {problem}" for problem in problems))
        return self

    def _problems(self) -> Iterable[str]:
        if not NAME.fullmatch(self.name) or self.name.startswith("__"):
            yield "the name is not a Prometheus metric name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
        elif reserved_prefix(self.name):
            yield f"the name starts with {reserved_prefix(self.name)}, kept for loglens's own metrics"
        if self.match is None and self.where is None:
            yield "needs match (a regex on the line), where (fields), or both"
        groups: list[str] = []
        if self.match is not None:
            try:
                groups = regex_groups(self.match)
            except ValueError as exc:
                yield f"match {self.match!r} is not a regular expression polars reads: {exc}"
                groups = []
            if MATCH_GROUP in groups:
                yield f"group name {MATCH_GROUP} is loglens's own"
        yield from self._labels(groups, self.match is not None)
        yield from self._type_keys(groups)

    def _labels(self, groups: list[str], matched: bool) -> Iterable[str]:
        seen: set[str] = set()
        for label in self.labels:
            if not NAME.fullmatch(label) or label.startswith("__"):
                yield f"label {label!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __)"
            elif label in seen:
                yield f"label {label!r} is given twice"
            elif label == "le" and self.type == "histogram":
                yield "label 'le' is the histogram's bucket label"
            elif label not in groups and label not in LABEL_FIELDS:
                where = "no group of match" if matched else "no match"
                fields = ", ".join(LABEL_FIELDS)
                yield f"label {label!r} names {where} (?P<{label}>...) and no field ({fields})"
            seen.add(label)

    def _type_keys(self, groups: list[str]) -> Iterable[str]:
        if self.value is None and self.type != "counter":
            yield f"a {self.type} needs value (a named group or {', '.join(VALUE_FIELDS)})"
        if self.value is not None and self.value not in groups and self.value not in VALUE_FIELDS:
            yield f"value {self.value!r} names no group of match and no field ({', '.join(VALUE_FIELDS)})"
        if self.buckets is not None:
            if self.type != "histogram":
                yield "buckets are for a histogram"
            elif not self.buckets or any(not math.isfinite(b) for b in self.buckets):
                yield "buckets must be finite numbers (+Inf is always there)"
            elif any(a >= b for a, b in zip(self.buckets, self.buckets[1:], strict=False)):
                yield "buckets must increase"
        if self.aggregate is not None and self.type != "gauge":
            yield "aggregate is for a gauge"

    @property
    def bounds(self) -> tuple[float, ...]:
        """A histogram's upper bounds, without +Inf."""
        return tuple(self.buckets) if self.buckets is not None else DEFAULT_BUCKETS

    @property
    def exposed(self) -> set[str]:
        """The sample names this metric puts in the exposition."""
        if self.type == "histogram":
            return {f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count"}
        if self.type == "counter":
            return {self.name if self.name.endswith("_total") else f"{self.name}_total"}
        return {self.name}

    @property
    def shape(self) -> tuple[object, ...]:
        """What rules sharing a name must agree on."""
        return (self.type, tuple(self.labels), self.bounds if self.type == "histogram" else ())


def check_metrics(metrics: list[MetricConfig], push_prefix: str) -> list[MetricConfig]:
    """Refuse names taken by pushed metrics, or by another user metric of another type or labels.

    Rules of one name and one shape add into the same series (like mtail actions on one variable).
    """
    problems: list[str] = []
    first: dict[str, MetricConfig] = {}
    owner: dict[str, MetricConfig] = {}
    for metric in metrics:
        if push_prefix and metric.name.startswith(push_prefix + "_"):
            problems.append(
                f"metric {metric.name!r}: the name starts with {push_prefix}_, kept for pushed metrics"
            )
        earlier = first.setdefault(metric.name, metric)
        if earlier is not metric and earlier.shape != metric.shape:
            problems.append(
                f"metric {metric.name!r}: another rule of that name is a {earlier.type} with labels "
                f"{earlier.labels}; rules of one name need the same type, labels and buckets"
            )
            continue
        for sample in metric.exposed:
            other = owner.setdefault(sample, metric)
            if other.name != metric.name:
                problems.append(f"metric {metric.name!r}: {sample} is also a sample of metric {other.name!r}")
    if problems:
        raise ValueError("\n".join(problems))
    return metrics
