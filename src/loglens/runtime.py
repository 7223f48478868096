"""One runtime per process: sources, folding, totals, windows, alerts, sinks, checkpoint and views.

``run``, ``watch``, ``demo`` and ``replay`` each build a :class:`Runtime` and differ only in what they
attach: which sources (:mod:`loglens.contracts`), which sinks, which views (the HTTP server, the
console). Nothing else folds batches into state, and views read it through :attr:`Runtime.query`.

One thread (the loop) polls the sources, folds each batch into the totals and windows, hands it to
the sinks, evaluates the alert rules and saves the checkpoint, so a checkpoint's positions and totals
always agree. A failing source or sink is counted, backed off and retried; it never stops the others.

    runtime = Runtime(settings, [FileFollower(specs)], views=[HttpServer(settings.server)])
    runtime.start()     # binds, restores the checkpoint, starts the loop and the views
    runtime.stop()      # the loop ends, a last poll and checkpoint, then views, sources and store close
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import polars as pl

from loglens.aggregate.counters import Limits
from loglens.aggregate.totals import Totals
from loglens.clock import Clock, SystemClock
from loglens.config import Settings
from loglens.contracts import CheckpointHeld, PacedSink, Sink, Source, SourceStatus
from loglens.errors import ConfigError, LoglensError
from loglens.failures import Backoff, describe, is_fatal, reason
from loglens.records import Batch
from loglens.sinks.runner import SinkRunner
from loglens.state.checkpoint import CheckpointStore, Snapshot

if TYPE_CHECKING:
    from loglens.aggregate.visitors import WebPanels
    from loglens.aggregate.windows import Windows
    from loglens.alerts.engine import AlertEngine, AlertSink
    from loglens.alerts.rules import Rule
    from loglens.anomaly.rates import RateDetectors
    from loglens.metrics.state import UserMetrics
    from loglens.query import Query

log = logging.getLogger("loglens.runtime")

#: Seconds the windows keep by default (the longest ``/api/insights`` window).
KEEP_SECONDS = 600


class View(Protocol):
    """Something that shows the runtime's state and lives as long as it does (the HTTP server)."""

    def bind(self, runtime: Runtime) -> None:
        """Take what must be taken before any state is restored (a port); raise LoglensError if not."""
        ...

    def start(self) -> None:
        """Begin serving."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...


@dataclass
class _SourceRunner:
    """A source as the loop runs it: its failures as a whole, backed off."""

    source: Source
    backoff: Backoff
    errors: Counter[str] = field(default_factory=Counter)


class Runtime:
    """Owns the state of one process and the loop that feeds it.

    Args:
        settings: limits, state folder, poll and checkpoint intervals.
        sources: where batches come from.
        sinks: where folded batches go.
        views: started and stopped with the runtime (the HTTP server).
        rules: alert rules evaluated every second (none: no alert engine work).
        alert_sinks: where fire and recover events go.
        clock: the wall clock (tests pass a frozen one).
        event_time: windows and alerts follow the logs' own time (:class:`EventClock`), for old logs.
        checkpoint: keep a checkpoint in ``settings.state.dir``.
        windows: keep per-second windows (a one-shot report needs none).
        limits: caps of the totals (default: from the settings).
        web_panels: the goaccess panels a sink folds, for the query API to read.
    """

    def __init__(
        self,
        settings: Settings,
        sources: Sequence[Source],
        sinks: Sequence[Sink] = (),
        *,
        views: Sequence[View] = (),
        rules: Sequence[Rule] = (),
        alert_sinks: Iterable[AlertSink] = (),
        clock: Clock | None = None,
        event_time: bool = False,
        checkpoint: bool = True,
        windows: bool = True,
        limits: Limits | None = None,
        web_panels: WebPanels | None = None,
    ) -> None:
        self.settings = settings
        #: The web page's goaccess panels, folded by one of the sinks (None: none are kept).
        self.web_panels = web_panels
        self.wall = clock or SystemClock()
        caps = settings.limits
        self.totals = Totals(limits or Limits(caps.max_label_values, caps.section_limit))
        self.metrics: UserMetrics | None = None
        if settings.metrics:  # imported only when there are rules: no cost on the hot path without
            from loglens.metrics.state import UserMetrics

            self.metrics = UserMetrics(settings.metrics, caps.series_ttl_seconds)
        #: Runs the user metrics' regexes over a batch while the loop folds its totals.
        self._observing = ThreadPoolExecutor(1, "loglens-metrics") if self.metrics is not None else None
        self.event_time = event_time
        # Replaying, a batch is folded in time-ordered slices no longer than the lateness, so a big read
        # neither drops its older lines as late nor lets the windows evict seconds alerts have not seen.
        self.slice_seconds = max(1, int(caps.lateness_seconds))
        longest = max((rule.window_seconds for rule in rules), default=0)
        keep = max(KEEP_SECONDS, longest + 2 * self.slice_seconds + 1)
        self.windows: Windows | None = None
        self.engine: AlertEngine | None = None
        self.detectors: RateDetectors | None = None
        self.clock: Clock = self.wall
        if windows:
            # Imported here: a one-shot report keeps no windows, and need not load numpy for their sketches.
            from loglens.aggregate.event_time import EventClock
            from loglens.aggregate.windows import Windows
            from loglens.alerts.engine import AlertEngine
            from loglens.anomaly.rates import RateDetectors

            self.windows = Windows(
                keep,
                lateness_seconds=caps.lateness_seconds,
                max_keys=caps.section_limit,
                future_skew_seconds=caps.future_skew_seconds,
                clock=self.wall,
            )
            if event_time:
                self.clock = EventClock(self.windows, self.wall)
            if settings.anomaly.enabled:
                self.detectors = RateDetectors(settings.anomaly, self.windows)
            self.engine = AlertEngine(
                self.windows, rules, self.clock, settings.alert.incident_limit, alert_sinks, self.detectors
            )
        _bind_anomaly_rules(rules, self.detectors)
        self.sources = [_SourceRunner(s, Backoff(f"source {s.id}", log)) for s in sources]
        self.sinks = [SinkRunner(s, self.wall) for s in sinks]
        self._paced = [s for s in sinks if isinstance(s, PacedSink)]
        self.views = list(views)
        self.keep_checkpoint = checkpoint
        self.store: CheckpointStore | None = None
        self.started_at = self.wall.now()
        self.checkpoint_failures = 0
        self.checkpoints_held = 0  # skipped while a sink waits for a peer (CheckpointHeld)
        self.loop_runs = 0
        self.last_loop_at: float | None = None
        self._fold_errors: dict[str, Counter[str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_saved: Snapshot | None = None
        self._current_at: float | None = None  # the checkpoint holds the state as of this time
        self._checkpoint_backoff = Backoff("checkpoint", log)
        self._query: Query | None = None

    @property
    def query(self) -> Query:
        """The one read API over this runtime's state."""
        if self._query is None:
            from loglens.query import Query

            self._query = Query(self)
        return self._query

    @property
    def running(self) -> bool:
        """True while the loop thread runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- lifecycle ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Take the state folder and restore its checkpoint (nothing when ``checkpoint`` is off).

        Raises:
            LoglensError: the folder is in use, unwritable, or holds an unusable checkpoint.
        """
        if not self.keep_checkpoint or self.store is not None:
            return
        store = CheckpointStore(self.settings.state.dir)
        try:
            snapshot = store.load()
            if snapshot is not None:
                self._restore(snapshot)
        except LoglensError:
            store.close()
            raise
        except Exception as exc:  # values of the wrong shape: a damaged or foreign checkpoint
            store.close()
            raise store.unusable(f"cannot be restored ({describe(exc)})") from None
        self.store = store
        if snapshot is not None:
            self._last_saved = snapshot
            log.info("resuming from the checkpoint of %s", store.path)

    def _restore(self, snapshot: Snapshot) -> None:
        self.totals.load_state(snapshot.totals, self.wall.now())
        if self.metrics is not None:
            self.metrics.load_state(snapshot.metrics, self.wall.now())
        if self.engine is not None and snapshot.alerts:
            self.engine.restore(snapshot.alerts)
        if self.detectors is not None and snapshot.anomaly:
            self.detectors.restore(snapshot.anomaly)
        for runner in self.sources:
            saved = snapshot.sources.get(runner.source.id)
            if saved is not None:
                runner.source.restore(saved)
        for sink in self.sinks:
            if sink.sink.name in snapshot.sinks:
                sink.sink.restore(snapshot.sinks[sink.sink.name])

    def start(self) -> Runtime:
        """Bind the views, restore the checkpoint, start the loop and then the views.

        Raises:
            LoglensError: a view cannot bind, or the state folder is unusable.
        """
        bound: list[View] = []
        try:
            for view in self.views:
                view.bind(self)
                bound.append(view)
            self.open()
        except BaseException:
            for view in bound:
                view.stop()
            raise
        self._thread = threading.Thread(target=self._loop, name="loglens-loop")
        self._thread.start()
        for view in self.views:
            view.start()
        return self

    def stop(self) -> None:
        """Graceful stop: the loop ends after its current batch, then one last poll and checkpoint;
        only then do views, sinks, sources and the checkpoint close."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:
            self._final()
        for view in self.views:
            view.stop()
        self.close()

    def close(self) -> None:
        """Close sinks, sources and the checkpoint store (the loop must not be running)."""
        for sink in self.sinks:
            sink.call("close")
        for runner in self.sources:
            runner.source.close()
        if self._observing is not None:
            self._observing.shutdown()
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        state, tail = self.settings.state, self.settings.tail
        next_save = self.wall.now()  # the first poll is saved at once: it fixes where files start
        try:
            while not self._stop.is_set():
                more = self.poll_once()
                now = self.wall.now()
                if now >= next_save:
                    self.totals.expire(now - self.settings.limits.series_ttl_seconds)
                    if self.metrics is not None:
                        self.metrics.expire(now)
                    self.checkpoint()
                    next_save = now + state.checkpoint_interval_seconds
                if not more:
                    self._stop.wait(tail.poll_interval_seconds)
        except KeyboardInterrupt:
            # Ctrl-C raised in this thread (polars checks for signals while it works, in any thread), maybe
            # in the middle of a fold: the last checkpoint saved stands; this state is not saved over it.
            self._stop.set()
            log.info("interrupted: stopping without a last checkpoint (the one saved before stands)")
            return
        self._final()

    def _final(self) -> None:
        """The last poll (it reads to the end of what is there) and the last checkpoint."""
        self._stop.clear()
        self.poll_once()
        self._stop.set()
        for sink in self.sinks:
            sink.call("flush")
        self.checkpoint()

    def poll_once(self) -> bool:
        """Poll every source whose backoff allows, fold what it yields, evaluate alerts.

        Returns:
            True when a source has more ready than one poll reads.
        """
        now = self.wall.now()
        more = False
        paused = any(not sink.accepting() for sink in self._paced)
        for runner in self.sources:
            if paused or not runner.backoff.ready(now):
                continue
            try:
                with closing(runner.source.poll(now)) as batches:
                    for batch in self._batches(batches):
                        self._fold(batch, runner.source)
                runner.backoff.succeeded()
            except BaseException as exc:
                if is_fatal(exc):
                    raise
                runner.errors[runner.backoff.failed(exc, now)] += 1
            more |= runner.source.backlog
        for sink in self.sinks:
            sink.retry()
        self._register_sources()
        self.tick()
        self.loop_runs += 1
        self.last_loop_at = self.wall.now()
        return more

    def _batches(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        """The source's batches, stopping at a batch boundary once a stop is asked for."""
        for batch in batches:
            yield batch
            if self._stop.is_set():
                return

    def drain(self) -> None:
        """Poll until every source is exhausted (a replay), in the calling thread; failures raise."""
        while not all(runner.source.exhausted for runner in self.sources):
            for runner in self.sources:
                with closing(runner.source.poll(self.wall.now())) as batches:
                    for batch in batches:
                        self._fold(batch, runner.source)
        for sink in self.sinks:
            sink.call("flush")

    def tick(self) -> None:
        """Evaluate the alert rules up to now (replayed time starts at the first line)."""
        if self.windows is None or self.engine is None:
            return
        if not self.engine.rules and self.detectors is None:
            return
        if not self.event_time or self.windows.watermark is not None:
            self.engine.tick()

    def _fold(self, batch: Batch, source: Source) -> None:
        """Fold one batch of ``source`` into the totals and windows, then hand it to the sinks."""
        now = self.wall.now()
        if batch.source not in self.totals.sources:  # known with its labels before its first count
            self.totals.source(batch.source, source.labels_of(batch.source))
        metrics, observing = self.metrics, self._observing
        observed = observing.submit(metrics.observe, batch) if metrics is not None and observing else None
        self._guard(batch.source, "totals", lambda: self.totals.update(batch, now))
        mining = self.detectors.mining if self.detectors is not None else None
        if mining is not None and (not batch.records.is_empty() or batch.errors.get("no_match")):
            second = int(self.clock.now())
            self._guard(batch.source, "patterns", lambda: mining.mine(batch, second))
        if self.windows is not None and not batch.records.is_empty():
            self._guard(batch.source, "windows", lambda: self._fold_windows(batch.records, batch.source))
        if metrics is not None and observed is not None:
            self._guard(batch.source, "metrics", lambda: metrics.fold(batch, observed.result(), now))
        for sink in self.sinks:
            sink.write(batch)

    def _guard(self, source: str, step: str, work: Callable[[], None]) -> None:
        """Run one fold step; a failure is counted for the source (reason ``fold``) and logged once."""
        try:
            work()
        except BaseException as exc:
            if is_fatal(exc):
                raise
            errors = self._fold_errors.setdefault(source, Counter())
            if not errors:
                log.error("%s: folding into the %s failed (%s)", source, step, reason(exc), exc_info=exc)
            errors["fold"] += 1

    def _fold_windows(self, records: pl.DataFrame, source: str) -> None:
        from loglens.aggregate.event_time import time_slices

        assert self.windows is not None and self.engine is not None
        arrival = self.clock.now()
        if not self.event_time:
            self.windows.add(records, arrival, source)
            return
        for first, part in time_slices(records, int(arrival), self.slice_seconds):
            evaluated = self.engine.evaluated_at
            if evaluated is None or first - 1 > evaluated:  # the quiet seconds before this part, as live
                self.engine.advance_to(first - 1)
            self.windows.add(part, arrival, source)
            self.engine.advance_to(self.windows.watermark or first)

    def _register_sources(self) -> None:
        """Make every source label known to the totals (a followed file shows 0 lines, not nothing)."""
        for status in self.source_status():
            if status.name not in self.totals.sources:
                self.totals.source(status.name, status.labels)

    # -- checkpoint --------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Every position and the totals as of now (call from the loop thread, between batches)."""
        return Snapshot(
            sources={runner.source.id: runner.source.state() for runner in self.sources},
            sinks={sink.sink.name: sink.sink.state() for sink in self.sinks},
            totals=self.totals.to_state(),
            alerts=self.engine.to_state() if self.engine is not None and self.engine.rules else {},
            anomaly=self.detectors.to_state() if self.detectors is not None else {},
            metrics=self.metrics.to_state() if self.metrics is not None else {},
            saved_at=self.wall.now(),
        )

    def checkpoint(self) -> None:
        """Save positions and totals together, unless nothing changed since the last save."""
        if self.store is None:
            return
        now = self.wall.now()
        if not self._checkpoint_backoff.ready(now):
            return
        try:
            snapshot = self.snapshot()
            if not snapshot.same_state(self._last_saved):
                self.store.save(snapshot)
                self._last_saved = snapshot
        except CheckpointHeld:
            self.checkpoints_held += 1
            return
        except BaseException as exc:
            if is_fatal(exc):
                raise
            self.checkpoint_failures += 1
            self._checkpoint_backoff.failed(exc, now)
            return
        self._checkpoint_backoff.succeeded()
        self._current_at = snapshot.saved_at
        for runner in self.sources:
            runner.source.committed(snapshot.sources[runner.source.id])

    @property
    def checkpoint_at(self) -> float | None:
        """Time as of which the checkpoint holds the state (saved, or found unchanged)."""
        return self._current_at

    @property
    def checkpoint_healthy(self) -> bool:
        """False while saving the checkpoint fails."""
        return self._checkpoint_backoff.healthy

    # -- what views read ---------------------------------------------------------------------------

    def source_status(self) -> list[SourceStatus]:
        """Every source label, with failures of a source as a whole and of folding merged in."""
        out: list[SourceStatus] = []
        for runner in self.sources:
            entries = runner.source.status()
            failing = runner.errors or not runner.backoff.healthy
            if failing and not any(entry.name == runner.source.id for entry in entries):
                entries = [*entries, SourceStatus(name=runner.source.id)]
            for entry in entries:
                errors = Counter(entry.errors)
                healthy, last_error = entry.healthy, entry.last_error
                if entry.name == runner.source.id:
                    errors.update(runner.errors)
                    healthy = healthy and runner.backoff.healthy
                    last_error = last_error or runner.backoff.last_error
                errors.update(self._fold_errors.get(entry.name, {}))
                out.append(replace(entry, errors=dict(errors), healthy=healthy, last_error=last_error))
        return out


def _bind_anomaly_rules(rules: Sequence[Rule], detectors: RateDetectors | None) -> None:
    """Let every ``anomaly`` rule read the detectors.

    Raises:
        ConfigError: an anomaly rule, and no detectors (``anomaly.enabled: false``, or no windows).
    """
    from loglens.alerts.anomaly import AnomalyRule

    for rule in rules:
        if isinstance(rule, AnomalyRule):
            if detectors is None:
                why = "which anomaly.enabled: false turns off"
                raise ConfigError(f"alerts: rule {rule.name!r} reads the rate detectors, {why}")
            rule.bind(detectors)
