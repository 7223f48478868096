"""The rate detectors: per-second counts of every series, scored each second against two baselines.

The series are ``hits`` (requests), ``4xx``, ``5xx``, each level (``ERROR``, ``WARNING``...) and each
source (``source:NAME``; past ``max_sources`` they are pooled in ``source:__other__``). Requests,
classes and levels are read from the windows' buckets; sources are counted from the batches the
windows keep. The current value is the count of the last ``window_seconds`` complete seconds (the
second being evaluated may still be filling), scored by :func:`~loglens.anomaly.score.score` against
the ``zscore`` baseline (recent minutes) and the ``seasonal`` one (earlier days), once each is warm.

A series is anomalous while its score, up or down, is at least ``threshold``; that is one anomaly,
counted once, until the score falls under :data:`RELEASE` of the threshold. A rise needs
``min_count`` records observed, a drop ``min_count`` expected, or its score is 0.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from loglens.aggregate.capped import OTHER
from loglens.aggregate.windows import Windows
from loglens.anomaly.config import DETECTORS, PATTERN_DETECTORS, AnomalyConfig
from loglens.anomaly.patterns import PATTERN_SERIES, PatternMining
from loglens.anomaly.score import Baseline, score
from loglens.anomaly.series import Tracked
from loglens.records import LEVELS

#: An anomaly ends once its score is under this share of the threshold.
RELEASE = 0.5
#: Evaluating this far before the newest second evaluated starts the detectors over (an older log).
RESET_SECONDS = 3600
#: Series kept from the first request on, so that one usually at 0 has a baseline before it rises.
REQUEST_SERIES = ("hits", "4xx", "5xx")
#: Levels kept from the first record with a level on, for the same reason.
ALARMING_LEVELS = ("WARNING", "ERROR", "CRITICAL")


@dataclass
class Anomaly:
    """One stretch of time a series was anomalous for a detector (``end`` None while it still is)."""

    detector: str
    series: str
    at: int
    score: float
    baseline: float  # the count expected in the window
    observed: float  # the count seen in it
    peak: float
    end: int | None = None
    example: str | None = None
    template: str | None = None  # new_pattern: the template the example made


@dataclass(frozen=True)
class Score:
    """A detector's latest score of a series, with the counts it compares."""

    score: float
    expected: float
    observed: int


class RateDetectors:
    """Keeps every series' history and scores it each second; see the module's docstring."""

    def __init__(self, config: AnomalyConfig, windows: Windows) -> None:
        self.config = config
        self.windows = windows
        self.series: dict[str, Tracked] = {}
        #: The latest score of each (detector, series) that has a warm baseline.
        self.scores: dict[tuple[str, str], Score] = {}
        #: Anomalies, newest last.
        self.recent: deque[Anomaly] = deque(maxlen=config.recent)
        #: Anomalies per detector.
        self.totals: Counter[str] = Counter({detector: 0 for detector in (*DETECTORS, *PATTERN_DETECTORS)})
        #: The second of each detector's newest anomaly.
        self.last_at: dict[str, int] = {}
        self.lock = threading.RLock()
        self._open: dict[tuple[str, str], Anomaly] = {}
        self._sources: dict[int, Counter[str]] = {}
        self._done: int | None = None  # the newest complete second counted
        self._resumed = False  # restored: the seconds up to the next evaluation were not seen
        self._at: int | None = None  # the second last scored
        self._new: deque[tuple[int, str]] = deque(maxlen=config.recent)  # (second, series) of new patterns
        windows.observers.append(self.observe)
        self.mining = PatternMining(self) if config.patterns else None
        if self.mining is not None:
            windows.observers.append(self.mining.observe)

    def observe(self, frame: pl.DataFrame, source: str) -> None:
        """Count the records of ``source`` the windows kept, per second."""
        name = f"source:{source}"
        if name not in self.series and self._pooled(name):
            name = f"source:{OTHER}"
        for sec, count in frame.group_by("sec").len().iter_rows():
            self._sources.setdefault(sec, Counter())[name] += count

    def count(self, sec: int, series: str, count: int) -> None:
        """Add ``count`` records to another series at ``sec`` (a template's, ``pattern:ID``)."""
        self._sources.setdefault(sec, Counter())[series] += count

    def record(self, detector: str, series: str, second: int, example: str, template: str) -> None:
        """A one-second anomaly: a template never seen before (``example`` its first message)."""
        with self.lock:
            anomaly = Anomaly(detector, series, second, 1.0, 0.0, 1.0, peak=1.0, end=second, example=example,
                              template=template)  # fmt: skip
            self.recent.append(anomaly)
            self.totals[detector] += 1
            self.last_at[detector] = second
            self._new.append((second, series))

    def _pooled(self, name: str) -> bool:
        known = sum(key.startswith("source:") and key != f"source:{OTHER}" for key in self.series)
        return known >= self.config.max_sources

    def evaluate(self, second: int) -> None:
        """Count the seconds completed since the last call and score every series at ``second``."""
        with self.lock:
            newest = second - 1
            if self._done is not None and newest <= self._done:
                if newest >= self._done - RESET_SECONDS:
                    return
                self.series.clear()
                self._done = None
            first = newest
            if self._done is not None:
                first = self._done + 1
                bulk = newest - 1 if self._resumed else newest - self.windows.keep_seconds
                if bulk >= first:
                    for tracked in self.series.values():
                        tracked.fill(first, bulk, seen=not self._resumed)
                    first = bulk + 1
            self._resumed = False
            for sec in range(first, newest + 1):
                self._count(sec)
            self._done = newest
            if self._sources and min(self._sources) <= newest:  # late records, or seconds filled in bulk
                self._sources = {sec: counts for sec, counts in self._sources.items() if sec > newest}
            self._score(second)
            self._at = second

    def _count(self, sec: int) -> None:
        counts: dict[str, int] = dict(self._sources.pop(sec, {}))
        started = [name for name, count in counts.items() if count]
        stats = self.windows.buckets.get(sec)
        if stats is not None:
            counts.update({"hits": stats.hits, "4xx": stats.errors_4xx, "5xx": stats.errors_5xx})
            levels = {level: n for level, n in stats.levels.items() if level in LEVELS}
            counts.update(levels)
            started += [
                *(REQUEST_SERIES if stats.hits else ()),
                *levels,
                *(ALARMING_LEVELS if levels else ()),
            ]
        for name in started:
            if name not in self.series:
                self.series[name] = Tracked(self.config)
        for name, tracked in self.series.items():
            tracked.push(sec, counts.get(name, 0))

    def _score(self, second: int) -> None:
        window = self.config.window_seconds
        middle = second - window / 2
        for name, tracked in self.series.items():
            zscore = tracked.zscore()
            pattern = name.startswith(PATTERN_SERIES)
            candidates = ([zscore] if zscore else [], [] if pattern else tracked.seasonal(middle))
            for detector, baselines in zip(DETECTORS, candidates, strict=True):
                if pattern and detector != "zscore":
                    continue
                key = ("pattern_rate" if pattern else detector, name)
                if not baselines:
                    self.scores.pop(key, None)
                    continue
                value, expected = _nearest(tracked.observed, baselines, window)
                volume = tracked.observed if value > 0 else expected  # a rise is seen, a drop expected
                if volume < self.config.min_count or (pattern and value < 0):  # a template's rate: rises
                    value = 0.0
                self.scores[key] = Score(value, expected, tracked.observed)
                self._track(key, value, expected, tracked.observed, second)

    def _track(self, key: tuple[str, str], value: float, expected: float, observed: int, second: int) -> None:
        current = self._open.get(key)
        if abs(value) >= self.config.threshold:
            if current is None:
                example = self.mining.example(key[1]) if self.mining and key[0] == "pattern_rate" else None
                anomaly = Anomaly(*key, second, value, expected, observed, peak=value, example=example)
                self._open[key] = anomaly
                self.recent.append(anomaly)
                self.totals[key[0]] += 1
                self.last_at[key[0]] = second
            elif abs(value) > abs(current.peak):
                current.peak = value
        elif current is not None and abs(value) < self.config.threshold * RELEASE:
            current.end = second
            del self._open[key]

    def value(self, detector: str, series: str, direction: str) -> float | None:
        """The score of ``series`` by ``detector`` as a rule reads it: ``up`` as it is, ``down``
        negated, ``both`` its size (None while the baseline warms up)."""
        with self.lock:
            if detector == "new_pattern":
                return self._new_patterns(series)
            if detector == "pattern_rate":
                scores = [s.score for (d, _), s in self.scores.items() if d == "pattern_rate"]
                return max(scores) if scores else None
            current = self.scores.get((detector, series))
        if current is None:
            return None
        return {"up": current.score, "down": -current.score}.get(direction, abs(current.score))

    def _new_patterns(self, series: str) -> float:
        """New templates (of ``source:NAME``, or of any source for "") in the window ending at the last
        second scored."""
        if self._at is None:
            return 0.0
        start = self._at - self.config.window_seconds
        return float(sum(1 for at, of in self._new if start < at <= self._at and series in ("", of)))

    def anomalies(self) -> list[Anomaly]:
        """The kept anomalies, newest first."""
        with self.lock:
            return list(reversed(self.recent))

    # -- checkpoint --------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: each series' history, the kept anomalies and the counts."""
        with self.lock:
            return {
                "done": self._done,
                "series": {name: tracked.to_state() for name, tracked in self.series.items()},
                "recent": [asdict(anomaly) for anomaly in self.recent],
                "totals": dict(self.totals),
                "last_at": dict(self.last_at),
                "new": [list(new) for new in self._new],
                **({"mining": self.mining.to_state()} if self.mining is not None else {}),
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back :meth:`to_state`; the seconds until the next evaluation are counted as not seen."""
        with self.lock:
            for name, saved in state["series"].items():
                tracked = self.series[name] = Tracked(self.config)
                tracked.restore(saved)
            self.recent.extend(Anomaly(**saved) for saved in state["recent"])
            self._open = {(a.detector, a.series): a for a in self.recent if a.end is None}
            self.totals.update(state["totals"])
            self.last_at.update(state["last_at"])
            self._done = state["done"]
            self._resumed = self._done is not None
            self._new.extend((at, series) for at, series in state.get("new", []))
            if self.mining is not None and "mining" in state:
                self.mining.restore(state["mining"])


def _nearest(observed: int, baselines: list[Baseline], window: int) -> tuple[float, float]:
    """The score nearest 0 of ``observed`` against each baseline (0 when they lie on both sides of it),
    and the count that baseline expects."""
    scored = [(score(observed, b.rate * window, b.spread), b.rate * window) for b in baselines]
    if len(scored) == 1:
        return scored[0]
    if min(value for value, _ in scored) < 0 < max(value for value, _ in scored):
        return 0.0, min(scored, key=lambda pair: abs(pair[0]))[1]
    return min(scored, key=lambda pair: abs(pair[0]))
