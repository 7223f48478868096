"""Monotonic totals per source: what ``loglens_*_total`` exposes and what a checkpoint saves.

Each batch is folded in with a few polars group-bys, so the Python work per batch is proportional to
the number of distinct label values in it, not to its lines. Counters never go down and never wrap: a
negative size counts 0 bytes and sizes are summed in 128 bits (Python ints across batches); a
negative duration counts 0 s and one that is not a finite number is not observed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from loglens.aggregate.capped import OTHER, CappedCounter
from loglens.records import Batch, access_records, method_label

#: Upper bounds (seconds) of the request-duration histogram buckets, Prometheus' defaults.
DURATION_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def size_sum(sizes: pl.Expr) -> pl.Expr:
    """The sum of response sizes, negatives as 0, without wrapping (a 128-bit sum)."""
    return sizes.clip(lower_bound=0).cast(pl.Int128).sum()


def valid_durations(durations: pl.Expr) -> pl.Expr:
    """Durations to observe: negatives as 0, null where not a finite number."""
    return pl.when(durations.is_finite()).then(durations.clip(lower_bound=0.0))


@dataclass
class Limits:
    """Caps on label values that come from input."""

    max_label_values: int = 1000
    section_limit: int = 100


#: Caps of a report (and of a summary merged on demand): large, since it is read once, yet bounded.
REPORT_LIMITS = Limits(max_label_values=100_000, section_limit=100_000)


@dataclass
class DurationHistogram:
    """Cumulative-on-export histogram of request durations."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, durations: pl.Series) -> None:
        """Add the durations (seconds) :func:`valid_durations` keeps."""
        values = durations.to_frame("d").select(valid_durations(pl.col("d"))).to_series().drop_nulls()
        if values.is_empty():
            return
        slots = pl.Series(DURATION_BUCKETS).search_sorted(values, side="left")  # v <= bound
        for slot, count in slots.value_counts().iter_rows():
            self.counts[slot] += count
        self.total += float(values.sum())

    @property
    def count(self) -> int:
        """Number of observations."""
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, cumulative count)`` pairs ending with ``+Inf``."""
        running, out = 0, []
        for bound, count in zip([*map(str, DURATION_BUCKETS), "+Inf"], self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


class SourceCounters:
    """Every running total of one source."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.lines = 0
        self.parse_errors: Counter[str] = Counter()
        self.requests: CappedCounter[tuple[str, str]] = CappedCounter(
            self.limits.max_label_values, (OTHER, OTHER)
        )
        self.sections: CappedCounter[str] = CappedCounter(self.limits.section_limit, OTHER)
        self.response_bytes = 0
        self.durations = DurationHistogram()
        self.levels: Counter[str] = Counter()
        self.first_ts: datetime | None = None
        self.last_ts: datetime | None = None
        #: Whether an access record was ever folded in: only then does the source have HTTP series.
        self.access = False

    @property
    def hits(self) -> int:
        """Access records counted."""
        return int(self.requests.total())

    @property
    def parsed(self) -> int:
        """Good lines."""
        return self.lines - sum(self.parse_errors.values())

    def update(self, batch: Batch, now: float = 0.0) -> None:
        """Fold a batch in; ``now`` marks label values as recently seen (for expiry)."""
        self.lines += batch.lines
        self.parse_errors.update(batch.errors)
        records = batch.records
        if records.is_empty():
            return
        access = access_records(records)
        if not access.is_empty():
            self._update_access(access, now)
        levels = records["level"].drop_nulls().value_counts()
        self.levels.update(dict(zip(levels["level"].to_list(), levels["count"].to_list(), strict=True)))
        first, last = records["ts"].min(), records["ts"].max()
        if isinstance(first, datetime) and (self.first_ts is None or first < self.first_ts):
            self.first_ts = first
        if isinstance(last, datetime) and (self.last_ts is None or last > self.last_ts):
            self.last_ts = last

    def _update_access(self, access: pl.DataFrame, now: float) -> None:
        self.access = True
        # Busiest first, ties by name: when a capped counter fills, the keys it admits do not depend on
        # hash order.
        by_request = (
            access.group_by(method_label(), "status")
            .len()
            .sort(["len", "method", "status"], descending=[True, False, False])
        )
        pairs = [((method, str(status)), count) for method, status, count in by_request.iter_rows()]
        self.requests.update(pairs, now)
        sections = (
            access["section"].drop_nulls().value_counts().sort(["count", "section"], descending=[True, False])
        )
        self.sections.update(sections.iter_rows(), now)
        self.response_bytes += int(access.select(size_sum(pl.col("bytes"))).item() or 0)
        self.durations.observe(access["duration"])

    def merge(self, other: SourceCounters) -> None:
        """Add the totals of ``other`` (another source) into these."""
        self.lines += other.lines
        self.parse_errors.update(other.parse_errors)
        self.access = self.access or other.access
        self.requests.update(other.requests.items())
        self.sections.update(other.sections.items())
        self.response_bytes += other.response_bytes
        pairs = zip(self.durations.counts, other.durations.counts, strict=True)
        self.durations.counts = [mine + theirs for mine, theirs in pairs]
        self.durations.total += other.durations.total
        self.levels.update(other.levels)
        firsts = [ts for ts in (self.first_ts, other.first_ts) if ts is not None]
        lasts = [ts for ts in (self.last_ts, other.last_ts) if ts is not None]
        self.first_ts = min(firsts) if firsts else None
        self.last_ts = max(lasts) if lasts else None

    def to_state(self) -> dict[str, Any]:
        """All totals as a JSON-ready mapping."""
        return {
            "lines": self.lines,
            "parse_errors": dict(self.parse_errors),
            "requests": self.requests.to_state(),
            "sections": self.sections.to_state(),
            "response_bytes": self.response_bytes,
            "duration_counts": self.durations.counts,
            "duration_sum": self.durations.total,
            "levels": dict(self.levels),
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "access": self.access,
        }

    def load_state(self, state: dict[str, Any], now: float = 0.0) -> None:
        """Restore totals saved by :meth:`to_state`."""
        self.lines = int(state["lines"])
        self.parse_errors = Counter(state["parse_errors"])
        self.requests.load_state(state["requests"], now)
        self.sections.load_state(state["sections"], now)
        self.response_bytes = int(state["response_bytes"])
        self.durations = DurationHistogram(list(state["duration_counts"]), float(state["duration_sum"]))
        self.levels = Counter(state["levels"])
        self.first_ts = datetime.fromisoformat(state["first_ts"]) if state["first_ts"] else None
        self.last_ts = datetime.fromisoformat(state["last_ts"]) if state["last_ts"] else None
        # a checkpoint saved before "access" was: a source that had counted requests
        self.access = bool(state.get("access", state["requests"]))
