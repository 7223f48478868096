"""Per-second buckets keyed by event time: what insights, the console and alert rules read.

A record lands in the bucket of its own second (arrival time when it has none), so out-of-order lines
are counted where they belong. The watermark is the newest event second seen; a record older than
the watermark reached before it, less ``lateness``, is counted as late and dropped, and buckets older than
``watermark - keep`` are evicted. A record more than ``future_skew`` ahead of the arrival time (of the
clock, when one is given) is counted as future and dropped, so one line dated 2099 cannot move the
watermark and make every later line late. Each second holds at most ``max_keys`` sections, status
codes and levels (the rest pooled as ``__other__``), the standard methods and ``OTHER``, and
HyperLogLog sketches of clients and users, so memory is bounded by ``keep`` seconds whatever the input.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from loglens.aggregate.capped import OTHER
from loglens.aggregate.counters import size_sum, valid_durations
from loglens.aggregate.distinct import SEED, HyperLogLog
from loglens.clock import Clock
from loglens.records import method_label

#: Evicted seconds are rolled up into spans this long, kept :data:`ROLLUP_KEEP_SECONDS` (the charts).
ROLLUP_SECONDS = 10
ROLLUP_KEEP_SECONDS = 3600
#: The status under which a second's codes past ``max_keys`` are pooled (shown as ``__other__``).
OTHER_STATUS = 0


@dataclass
class SecondStats:
    """What happened in one second of event time."""

    lines: int = 0
    hits: int = 0
    bytes: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    duration_sum: float = 0.0
    duration_count: int = 0
    status: Counter[int] = field(default_factory=Counter)
    sections: Counter[str] = field(default_factory=Counter)
    section_errors: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    clients: HyperLogLog = field(default_factory=HyperLogLog)
    users: HyperLogLog = field(default_factory=HyperLogLog)

    def merge(self, other: SecondStats) -> None:
        """Add ``other`` into this one."""
        self.lines += other.lines
        self.hits += other.hits
        self.bytes += other.bytes
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.duration_sum += other.duration_sum
        self.duration_count += other.duration_count
        self.status.update(other.status)
        self.sections.update(other.sections)
        self.section_errors.update(other.section_errors)
        self.methods.update(other.methods)
        self.levels.update(other.levels)
        self.clients.merge(other.clients)
        self.users.merge(other.users)


def _add_rates(into: list[int], counts: Sequence[int]) -> None:
    """Add hits, 4xx and 5xx (the last three of ``counts``) to the last three of ``into``."""
    into[-3] += counts[-3]
    into[-2] += counts[-2]
    into[-1] += counts[-1]


def _add_capped(counter: Counter[Any], key: Any, count: int, cap: int) -> None:
    """Add to ``key``, or to ``__other__`` once ``counter`` holds ``cap`` keys."""
    if key not in counter and len(counter) >= cap:
        key = OTHER
    counter[key] += count


def _pairs(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """``(sec, value, count)`` of the non-null values of ``key``."""
    return frame.filter(pl.col(key).is_not_null()).group_by("sec", key).len()


def _hashes(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """``(sec, h)``: the distinct-count hash of each non-null ``key`` value, sorted by second."""
    return frame.filter(pl.col(key).is_not_null()).select("sec", h=pl.col(key).hash(SEED)).sort("sec")


class Windows:
    """Sliding per-second event-time buckets with bounded lateness and retention."""

    def __init__(
        self,
        keep_seconds: int = 600,
        lateness_seconds: float = 120,
        max_keys: int = 100,
        future_skew_seconds: float = 300,
        clock: Clock | None = None,
    ) -> None:
        """``clock``: what the future is judged against instead of the arrival time (the console's
        replay passes its replayed time as arrival)."""
        self.keep_seconds = int(keep_seconds)
        self.lateness_seconds = lateness_seconds
        self.max_keys = max_keys
        self.future_skew_seconds = future_skew_seconds
        self.clock = clock
        self.buckets: dict[int, SecondStats] = {}
        #: Hits, 4xx and 5xx of evicted seconds, per :data:`ROLLUP_SECONDS`, for an hour past ``keep``.
        self.rollup: dict[int, list[int]] = {}
        #: Per source: hits, 4xx and 5xx of each kept second, and rolled up as :attr:`rollup` is.
        self.source_seconds: dict[str, dict[int, list[int]]] = {}
        self.source_rollup: dict[str, dict[int, list[int]]] = {}
        self.watermark: int | None = None
        #: Records left out of the windows, by reason: ``late`` or ``future``.
        self.dropped: Counter[str] = Counter()
        #: Called with each batch's kept records (with their second in ``sec``) and their source label.
        self.observers: list[Callable[[pl.DataFrame, str], None]] = []
        self.lock = threading.RLock()

    @property
    def late(self) -> int:
        """Records dropped as late."""
        return self.dropped["late"]

    def add(self, records: pl.DataFrame, arrival: float, source: str = "") -> int:
        """Fold records of ``source`` in (arrival time stands in for a missing timestamp); return how
        many were dropped, late or future."""
        if records.is_empty():
            return 0
        now = self.clock.now() if self.clock is not None else arrival
        frame = records.with_columns(
            sec=pl.col("ts").dt.epoch("s").fill_null(int(arrival)),
            error_class=pl.col("status") // 100,
        )
        future_mask = frame["sec"] > int(now + self.future_skew_seconds)
        future = int(future_mask.sum())
        with self.lock:
            if future:
                frame = frame.filter(~future_mask)
                self.dropped["future"] += future
                if frame.is_empty():
                    return future
            # A record is late if it is older than the newest second seen before it, less the lateness:
            # the running maximum, so a batch that spans hours is judged line by line, not by its end.
            previous = self.watermark if self.watermark is not None else int(frame["sec"].min())  # type: ignore[arg-type]
            running = frame["sec"].cum_max().clip(lower_bound=previous)
            late_mask = frame["sec"] < running - self.lateness_seconds
            self.watermark = int(running.max())  # type: ignore[arg-type]
            late = int(late_mask.sum())
            if late:
                frame = frame.filter(~late_mask)
                self.dropped["late"] += late
            self._fold(frame, source)
            for observer in self.observers:
                observer(frame, source)
            self._evict()
        return late + future

    def _bucket(self, sec: int) -> SecondStats:
        stats = self.buckets.get(sec)
        if stats is None:
            stats = self.buckets[sec] = SecondStats()
        return stats

    def _fold(self, frame: pl.DataFrame, source: str = "") -> None:
        """Fold a batch of ``source`` into its seconds: every group-by of the batch runs in one polars
        call."""
        lazy = frame.lazy().with_columns(valid_durations(pl.col("duration")).alias("duration"))
        errors = lazy.filter(pl.col("error_class") >= 4)
        totals, status, *keyed, clients, users = pl.collect_all(
            [
                lazy.group_by("sec").agg(
                    lines=pl.len(),
                    hits=pl.col("status").is_not_null().sum(),
                    bytes=size_sum(pl.col("bytes")),
                    e4=(pl.col("error_class") == 4).sum(),
                    e5=(pl.col("error_class") == 5).sum(),
                    dsum=pl.col("duration").sum(),
                    dcount=pl.col("duration").is_not_null().sum(),
                ),
                _pairs(lazy, "status"),
                _pairs(lazy, "section"),
                _pairs(errors, "section"),
                lazy.filter(pl.col("status").is_not_null()).group_by("sec", method_label()).len(),
                _pairs(lazy, "level"),
                _hashes(lazy, "client"),
                _hashes(lazy, "user"),
            ]
        )
        of_source = self.source_seconds.setdefault(source, {})
        for sec, lines, hits, size, e4, e5, dsum, dcount in totals.iter_rows():
            rates = of_source.setdefault(sec, [0, 0, 0])
            rates[0] += hits
            rates[1] += e4
            rates[2] += e5
            stats = self._bucket(sec)
            stats.lines += lines
            stats.hits += hits
            stats.bytes += size
            stats.errors_4xx += e4
            stats.errors_5xx += e5
            stats.duration_sum += dsum or 0.0
            stats.duration_count += dcount
        # busiest first, ties by code: which codes keep their own count does not depend on hash order
        status = status.sort(["sec", "len", "status"], descending=[False, True, False])
        for sec, code, count in status.iter_rows():
            codes = self.buckets[sec].status
            if code not in codes and len(codes) >= self.max_keys:
                code = OTHER_STATUS
            codes[code] += count
        for counts, attribute in zip(keyed, ("sections", "section_errors", "methods", "levels"), strict=True):
            for sec, value, count in counts.iter_rows():
                _add_capped(getattr(self.buckets[sec], attribute), value, count, self.max_keys)
        for hashed, attribute in ((clients, "clients"), (users, "users")):
            secs, hashes = hashed["sec"].to_numpy(), hashed["h"].to_numpy()
            bounds = [0, *(np.flatnonzero(np.diff(secs)) + 1).tolist(), secs.size] if secs.size else []
            for start, end in pairwise(bounds):
                getattr(self.buckets[int(secs[start])], attribute).add_hashes(hashes[start:end])

    def _evict(self) -> None:
        if self.watermark is None:
            return
        oldest = self.watermark - self.keep_seconds
        for sec in [s for s in self.buckets if s <= oldest]:
            stats = self.buckets.pop(sec)
            rolled = self.rollup.setdefault(sec - sec % ROLLUP_SECONDS, [0, 0, 0])
            rolled[0] += stats.hits
            rolled[1] += stats.errors_4xx
            rolled[2] += stats.errors_5xx
        for start in [s for s in self.rollup if s <= oldest - ROLLUP_KEEP_SECONDS]:
            del self.rollup[start]
        for source, seconds in self.source_seconds.items():
            rollup = self.source_rollup.setdefault(source, {})
            for sec in [s for s in seconds if s <= oldest]:
                _add_rates(rollup.setdefault(sec - sec % ROLLUP_SECONDS, [0, 0, 0]), seconds.pop(sec))
            for start in [s for s in rollup if s <= oldest - ROLLUP_KEEP_SECONDS]:
                del rollup[start]

    def rates(
        self, start: int, end: int, step: int, source: str | None = None
    ) -> list[tuple[int, int, int, int]]:
        """``(first second, hits, 4xx, 5xx)`` of each ``step`` seconds from ``start`` (aligned down to
        ``step``) to ``end``, of ``source`` (none: every source): the seconds still kept, and the
        rolled-up ones evicted before them (a ``step`` that is a multiple of :data:`ROLLUP_SECONDS`
        reads those exactly)."""
        first = start - start % step
        out = [[sec, 0, 0, 0] for sec in range(first, end + 1, step)]
        with self.lock:
            spans: list[Mapping[int, Sequence[int]]]
            if source is None:
                kept = {sec: (b.hits, b.errors_4xx, b.errors_5xx) for sec, b in self.buckets.items()}
                spans = [kept, self.rollup]
            else:
                spans = [self.source_seconds.get(source, {}), self.source_rollup.get(source, {})]
            for counts in spans:
                for sec, (hits, e4, e5) in counts.items():
                    if first <= sec <= end:
                        _add_rates(out[(sec - first) // step], (sec, hits, e4, e5))
        return [(sec, hits, e4, e5) for sec, hits, e4, e5 in out]

    def hits_per_second(self, start: int, end: int) -> list[tuple[int, int]]:
        """``(second, hits)`` for each second ``s`` with ``start < s <= end``, zeros included."""
        with self.lock:
            return [(s, self.buckets[s].hits if s in self.buckets else 0) for s in range(start + 1, end + 1)]

    def hits(self, start: float, end: float) -> int:
        """Hits in the seconds ``s`` with ``start < s <= end``."""
        with self.lock:
            return sum(stats.hits for sec, stats in self.buckets.items() if start < sec <= end)

    def summary(self, start: float, end: float) -> SecondStats:
        """All seconds ``s`` with ``start < s <= end`` merged into one."""
        merged = SecondStats()
        with self.lock:
            for sec, stats in self.buckets.items():
                if start < sec <= end:
                    merged.merge(stats)
        return merged
