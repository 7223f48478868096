"""The one read API over a runtime's state: what ``/api/*``, ``/metrics``, the console and alert views read.

Views never touch the aggregates themselves; every read goes through :class:`Query`, which takes the
locks the writers use, so a view sees whole batches only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from loglens.aggregate.counters import REPORT_LIMITS, SourceCounters
from loglens.aggregate.totals import Totals
from loglens.contracts import SinkStatus, SourceStatus

if TYPE_CHECKING:
    from loglens.aggregate.visitors import RangeSummary
    from loglens.alerts.engine import Incident
    from loglens.anomaly.rates import Anomaly, Score
    from loglens.patterns import TemplateInfo
    from loglens.runtime import Runtime


@dataclass(frozen=True)
class RuleState:
    """One alert rule as it stands."""

    name: str
    threshold: float
    window_seconds: int
    value: float  # the highest of its groups at the last second evaluated
    firing: bool
    kind: str = "rate"
    op: str = ">="
    for_seconds: int = 0
    keep_firing_seconds: int = 0
    by: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    firing_count: int = 0  # groups firing
    fired_total: int = 0  # times any group fired


@dataclass(frozen=True)
class ActiveAlert:
    """A group of a rule that is pending (breached, waiting out ``for``) or firing."""

    rule: str
    state: str  # pending | firing
    labels: dict[str, str]
    since: int  # pending: breached since; firing: fired at
    value: float


@dataclass(frozen=True)
class AlertState:
    """The alert engine as it stands: rules, kept incidents (newest first), the last message."""

    rules: list[RuleState]
    incidents: list[Incident]
    last_message: str | None
    sink_errors: int
    active: list[ActiveAlert] = field(default_factory=list)
    history: list[Incident] = field(default_factory=list)  # newest first


@dataclass(frozen=True)
class CheckpointInfo:
    """The checkpoint as it stands."""

    enabled: bool
    saved_at: float | None  # the last save
    current_at: float | None  # the state is as of this time (saved, or found unchanged)
    saves: int
    failures: int
    healthy: bool


@dataclass(frozen=True)
class AnomalyState:
    """The rate detectors as they stand (``enabled`` False: none are kept)."""

    enabled: bool
    threshold: float
    anomalies: list[Anomaly]  # newest first
    totals: dict[str, int]
    last_at: dict[str, int]
    scores: dict[tuple[str, str], Score]
    tracked: tuple[str, ...] = ()  # every series kept, warm or not


class Query:
    """Reads a :class:`~loglens.runtime.Runtime`'s state; changes nothing."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def totals(self) -> Totals:
        """The running totals (read them under ``totals.lock``)."""
        return self._rt.totals

    @property
    def started_at(self) -> float:
        """When the runtime was built (wall clock)."""
        return self._rt.started_at

    def now(self) -> float:
        """The runtime's time: the wall clock, or the logs' own time when following old logs."""
        return self._rt.clock.now()

    def wall(self) -> float:
        """The wall clock."""
        return self._rt.wall.now()

    @property
    def keep_seconds(self) -> int:
        """Seconds the windows hold (0 without windows)."""
        windows = self._rt.windows
        return windows.keep_seconds if windows is not None else 0

    @property
    def watermark(self) -> int | None:
        """The newest event second seen."""
        windows = self._rt.windows
        return windows.watermark if windows is not None else None

    @property
    def late_lines(self) -> int:
        """Lines too late for the windows."""
        windows = self._rt.windows
        return windows.late if windows is not None else 0

    def insights(
        self, window: int, sections: int = 10, sort: str = "hits", end: int | None = None
    ) -> dict[str, Any]:
        """:func:`~loglens.aggregate.insights.insights` of the ``window`` seconds up to ``end`` (now)."""
        from loglens.aggregate.insights import insights  # with the windows: numpy, which a report needs not

        windows = self._rt.windows
        if windows is None:
            raise ValueError("this runtime keeps no windows")
        return insights(windows, window, int(self.now()) if end is None else end, sections, sort)

    def hits_series(self, window: int, end: int | None = None) -> list[tuple[int, int]]:
        """``(second, hits)`` for each of the ``window`` seconds up to ``end`` (now), oldest first."""
        windows = self._rt.windows
        last = int(self.now()) if end is None else end
        if windows is None:
            return [(s, 0) for s in range(last - window + 1, last + 1)]
        return windows.hits_per_second(last - window, last)

    def rates(
        self, window: int, step: int, end: int | None = None, source: str | None = None
    ) -> list[tuple[int, int, int, int]]:
        """``(first second, hits, 4xx, 5xx)`` per ``step`` seconds over the ``window`` seconds up to
        ``end`` (now), of ``source`` (none: every source), oldest first; seconds past the windows' keep
        come from their rollup."""
        last = int(self.now()) if end is None else end
        windows = self._rt.windows
        if windows is None:
            return []
        return windows.rates(last - window + 1, last, step, source)

    def summary(self, source: str | None = None) -> SourceCounters:
        """The totals of ``source``, or of every source merged (a copy: what ``replay`` reports)."""
        merged = SourceCounters(REPORT_LIMITS)
        with self._rt.totals.lock:
            for name, counters in self._rt.totals.sources.items():
                if source is None or name == source:
                    merged.merge(counters)
        return merged

    def source_names(self) -> list[str]:
        """Every source label counted so far."""
        with self._rt.totals.lock:
            return sorted(self._rt.totals.sources)

    def web_panels(
        self, limit: int, source: str | None = None, range_seconds: int | None = None
    ) -> dict[str, list[dict[str, Any]]] | None:
        """The goaccess panels' top ``limit`` rows, of ``source`` (none: every source) over the last
        ``range_seconds`` (by whole minutes; none: since the start); None when this runtime folds none."""
        panels = self._rt.web_panels
        return panels.snapshot(limit, source, range_seconds) if panels is not None else None

    def range_summary(self, source: str, range_seconds: int) -> RangeSummary | None:
        """What ``source`` logged over the last ``range_seconds`` (by whole minutes, from the goaccess
        panels' minutes); None when this runtime folds no panels."""
        panels = self._rt.web_panels
        return panels.range_summary(source, range_seconds) if panels is not None else None

    def vhosts_logged(self) -> bool:
        """Whether any record folded into the goaccess panels had a virtual host."""
        panels = self._rt.web_panels
        return panels is not None and panels.vhosts

    def lines(self) -> tuple[int, Counter[str]]:
        """Lines read and parse errors by reason, over every source (checkpointed totals)."""
        with self._rt.totals.lock:
            sources = list(self._rt.totals.sources.values())
            return sum(s.lines for s in sources), sum((s.parse_errors for s in sources), Counter())

    def sources(self) -> list[SourceStatus]:
        """Every source label and what it reports of itself."""
        return self._rt.source_status()

    def sinks(self) -> list[SinkStatus]:
        """Every sink's counters."""
        return [runner.status() for runner in self._rt.sinks]

    def alerts(self) -> AlertState:
        """Rules, incidents and the last message."""
        engine = self._rt.engine
        if engine is None:
            return AlertState([], [], None, 0)
        with engine.lock:
            firing = Counter(incident.rule for incident in engine.firing())
            rules = [
                RuleState(
                    rule.name,
                    rule.threshold,
                    rule.window_seconds,
                    engine.values[rule.name],
                    firing[rule.name] > 0,
                    rule.kind,
                    rule.op,
                    rule.for_seconds,
                    rule.keep_firing_seconds,
                    rule.by,
                    dict(rule.labels),
                    firing[rule.name],
                    engine.fired[rule.name],
                )
                for rule in engine.rules
            ]
            active = [ActiveAlert(*alert) for alert in engine.active()]
            incidents = [replace(incident) for incident in engine.recent()]
            history = [replace(incident) for incident in reversed(engine.history)]
            last = engine.last_event.message if engine.last_event else None
            return AlertState(rules, incidents, last, engine.sink_errors, active, history)

    def anomalies(self) -> AnomalyState:
        """The kept anomalies, each detector's count and newest, and every series' latest score."""
        detectors = self._rt.detectors
        if detectors is None:
            return AnomalyState(False, self._rt.settings.anomaly.threshold, [], {}, {}, {})
        with detectors.lock:
            return AnomalyState(
                True,
                detectors.config.threshold,
                [replace(anomaly) for anomaly in detectors.anomalies()],
                dict(detectors.totals),
                dict(detectors.last_at),
                dict(detectors.scores),
                tuple(detectors.series),
            )

    def patterns(self) -> list[TemplateInfo] | None:
        """The mined templates, most seen first (None when no messages are mined)."""
        detectors = self._rt.detectors
        if detectors is None or detectors.mining is None:
            return None
        return detectors.mining.miner.templates()

    def checkpoint(self) -> CheckpointInfo:
        """When the checkpoint was last saved, how often, and whether saving works."""
        store = self._rt.store
        return CheckpointInfo(
            enabled=self._rt.keep_checkpoint,
            saved_at=store.last_saved_at if store is not None else None,
            current_at=self._rt.checkpoint_at,
            saves=store.saves if store is not None else 0,
            failures=self._rt.checkpoint_failures,
            healthy=self._rt.checkpoint_healthy,
        )

    def last_loop_at(self) -> float | None:
        """When the loop last completed a poll of every source."""
        return self._rt.last_loop_at
