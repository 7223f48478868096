"""The Pushgateway protocol over the push store: text exposition bodies, and groups that pushes replace.

A group is the set of series pushed under one grouping key. ``PUT`` replaces the whole group, ``POST``
the metrics of the group that the push names, and ``DELETE`` removes the group; the series keep the
store's TTL and limits as those of ``POST /api/metrics`` do. A pushed series carries its own labels, then
the grouping key's, which win over its own (as the Pushgateway does); its ``source`` is the job. A label
with an empty value is left out, as Prometheus reads it.

Bodies are read by prometheus_client's own parser. The ``{name}_created`` gauges prometheus_client writes
beside counters, histograms and summaries are left out: loglens exposes no creation times.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from loglens.clock import Clock
from loglens.config_sections import PushConfig
from loglens.push.models import MetricIn, PushError, describe_errors
from loglens.push.series import Rejected
from loglens.push.store import PushStore, SeriesId

#: Help given to a pushed metric that has none (the store wants one).
NO_HELP = "Pushed through the Pushgateway protocol, without help text."
_GROUPS_BEFORE_PRUNE = 10_000
_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary"}
_DERIVED = ("counter", "histogram", "summary")  # types whose _created gauge prometheus_client adds


class BadExposition(ValueError):
    """A body the text exposition parser refuses (HTTP 400)."""


@dataclass
class Parsed:
    """The metrics of a push body, validated, with what was wrong with the others."""

    metrics: list[tuple[int, MetricIn]] = field(default_factory=list)
    errors: list[PushError] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # metric names as sent, for POST's replacement


def parse_exposition(text: str, grouping: dict[str, str]) -> Parsed:
    """The metrics of a text exposition body, one per series, with the grouping labels added.

    Raises:
        BadExposition: the body does not parse, or a sample carries a timestamp (the Pushgateway
            refuses those too: a pushed value is as of its push).
    """
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises ValueError, and IndexError or others on cut-off lines
        raise BadExposition(f"the body is not the text exposition format: {exc}") from None
    derived = {f"{family.name}_created" for family in families if family.type in _DERIVED}
    parsed = Parsed()
    index = 0
    for family in families:
        if family.type == "gauge" and family.name in derived:
            continue
        for raw in _series(family, grouping):
            try:
                parsed.metrics.append((index, MetricIn.model_validate(raw)))
            except ValidationError as exc:
                parsed.errors.extend(describe_errors(exc.errors(), index, family.name))
            index += 1
        parsed.names.add(family.name)
    return parsed


def _series(family: Metric, grouping: dict[str, str]) -> list[dict[str, Any]]:
    """One ``/api/metrics`` metric body per series of ``family``."""
    kind = _TYPES.get(family.type, "gauge")  # untyped and unknown samples are gauges, as they are set
    by_labels: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    part = {"histogram": "le", "summary": "quantile"}.get(kind)  # the label that is part of the value
    for sample in family.samples:
        if sample.timestamp is not None:
            raise BadExposition(f"{sample.name} carries a timestamp: pushed samples must not")
        own = {k: v for k, v in sample.labels.items() if k != part}
        labels = {k: v for k, v in {**own, **grouping}.items() if v}  # an empty label is no label
        key = tuple(sorted(labels.items()))
        body = by_labels.setdefault(key, {
            "name": family.name, "metric_type": kind, "help": family.documentation or NO_HELP,
            "labels": labels, "value": {},
        })  # fmt: skip
        if kind in ("counter", "gauge"):
            body["value"] = {"value": sample.value}
            if kind == "counter":
                body["mode"] = "cumulative"
            continue
        body["mode"] = "cumulative"
        value = body["value"]
        suffix = sample.name.removeprefix(family.name)
        if suffix in ("_sum", "_count"):
            value[suffix[1:]] = sample.value
        elif suffix == "_bucket" and "le" in sample.labels:
            value.setdefault("buckets", {})[sample.labels["le"]] = sample.value
        elif suffix == "" and "quantile" in sample.labels:
            value.setdefault("quantiles", {})[sample.labels["quantile"]] = sample.value
    for body in by_labels.values():
        if kind == "summary":
            body["value"].setdefault("quantiles", {})
    return list(by_labels.values())


class Gateway:
    """The groups of pushed series, over a :class:`PushStore`.

    A group forgets the series the store no longer holds (expired) once in a while, so groups never
    outgrow the store's own bounds for long.
    """

    def __init__(self, store: PushStore, config: PushConfig, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.prefix = config.metric_prefix
        self._groups: dict[tuple[tuple[str, str], ...], dict[str, set[SeriesId]]] = {}
        self._lock = threading.Lock()
        self._prune_every = min(config.ttl_seconds / 10, 5.0)
        self._next_prune = 0.0

    def push(self, grouping: dict[str, str], parsed: Parsed, replace_all: bool) -> list[PushError]:
        """Apply a push: it replaces the whole group (``PUT``) or the metrics it names (``POST``).

        Returns one error per metric that could not be applied (the others are).
        """
        group = tuple(sorted(grouping.items()))
        source = grouping["job"]
        errors: list[PushError] = []
        applied: list[tuple[int, MetricIn]] = []
        ids: dict[int, SeriesId] = {}
        for index, metric in parsed.metrics:
            try:
                ids[index] = self.store.identity(source, metric)
                applied.append((index, metric))
            except Rejected as exc:
                errors.append(PushError(index=index, name=metric.name, field=exc.field, message=str(exc)))
        self.store.count_rejected(len(errors) + len({e.index for e in parsed.errors}))
        with self._lock:
            self._prune()
            held = self._groups.get(group, {})
            sent = {f"{self.prefix}_{name}" if self.prefix else name for name in parsed.names}
            names = set(held) if replace_all else set(held) & sent
            drop = [series for name in names for series in held.pop(name)]
            refused = self.store.apply(source, "cumulative", applied, drop)
            refused_at = {error.index for error in refused}
            for index, _ in applied:
                if index not in refused_at:
                    name, key = ids[index]
                    held.setdefault(name, set()).add((name, key))
            if held:
                self._groups[group] = held
            else:
                self._groups.pop(group, None)
        return sorted([*parsed.errors, *errors, *refused], key=lambda e: -1 if e.index is None else e.index)

    def delete(self, grouping: dict[str, str]) -> None:
        """Remove every series of the group (nothing to remove is no error)."""
        with self._lock:
            held = self._groups.pop(tuple(sorted(grouping.items())), {})
            self.store.delete(series for kept in held.values() for series in kept)

    def groups(self) -> int:
        """Groups holding at least one series (as of the last prune)."""
        with self._lock:
            return len(self._groups)

    def _prune(self) -> None:
        now = self.clock.now()
        size = sum(len(kept) for held in self._groups.values() for kept in held.values())
        if now < self._next_prune and size < _GROUPS_BEFORE_PRUNE:
            return
        self._next_prune = now + self._prune_every
        pruned: dict[tuple[tuple[str, str], ...], dict[str, set[SeriesId]]] = defaultdict(dict)
        for group, held in self._groups.items():
            for name, kept in held.items():
                alive = {series for series in kept if self.store.holds(series)}
                if alive:
                    pruned[group][name] = alive
        self._groups = dict(pruned)
