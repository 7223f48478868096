"""Running totals of every source, behind one lock shared by the pipeline (writer) and views (readers)."""

from __future__ import annotations

import threading
from typing import Any

from loglens.aggregate.counters import Limits, SourceCounters
from loglens.records import Batch


class Totals:
    """``SourceCounters`` per source name, plus each source's extra labels."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.sources: dict[str, SourceCounters] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.lock = threading.RLock()

    def source(self, name: str, labels: dict[str, str] | None = None) -> SourceCounters:
        """The counters of ``name``, created on first use."""
        with self.lock:
            counters = self.sources.get(name)
            if counters is None:
                counters = self.sources[name] = SourceCounters(self.limits)
                self.labels[name] = dict(labels or {})
            return counters

    def update(self, batch: Batch, now: float = 0.0) -> None:
        """Fold a batch into its source's counters."""
        with self.lock:
            self.source(batch.source).update(batch, now)

    def expire(self, before: float) -> None:
        """Drop input-derived label values not seen since ``before``."""
        with self.lock:
            for counters in self.sources.values():
                counters.sections.expire(before)
                counters.requests.expire(before)

    def to_state(self) -> dict[str, Any]:
        """All totals, JSON-ready."""
        with self.lock:
            return {name: counters.to_state() for name, counters in self.sources.items()}

    def load_state(self, state: dict[str, Any], now: float = 0.0) -> None:
        """Restore totals saved by :meth:`to_state`."""
        with self.lock:
            for name, saved in state.items():
                self.source(name).load_state(saved, now)
