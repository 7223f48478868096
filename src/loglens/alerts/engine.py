"""The alert engine: evaluates rules second by second, keeps firing state, incidents and notifies sinks.

Each evaluation covers every whole second since the previous one, so an alert fires and recovers at the
second it would have live, also when the caller ticks every few seconds or replays old logs fast. Views
(the console, ``/metrics``) read :attr:`AlertEngine.incidents` and :attr:`AlertEngine.values`; they never
change them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import polars as pl

from loglens.aggregate.windows import Windows
from loglens.alerts.rules import Rule, format_time
from loglens.alerts.series import Group
from loglens.clock import Clock

if TYPE_CHECKING:
    from loglens.anomaly.rates import RateDetectors

log = logging.getLogger(__name__)
#: Incidents ``/api/alerts`` keeps (at least ``incident_limit``).
HISTORY = 100


@dataclass
class Incident:
    """One stretch of time a rule was firing: ``end`` is None while it still is.

    Attributes:
        labels: the group's labels (``by:``), e.g. ``{"source": "web"}``; empty for an ungrouped rule.
        annotations: the rule's annotations, rendered for this group when it fired.
    """

    rule: str
    start: int
    max_value: float
    end: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether the rule is still firing."""
        return self.end is None

    def duration(self, now: float) -> int:
        """Seconds from start to end (to ``now`` while active)."""
        return int(self.end if self.end is not None else now) - self.start

    def to_dict(self, now: float) -> dict[str, Any]:
        """JSON-ready form (times UTC)."""
        return {
            "rule": self.rule,
            "start": format_time(self.start),
            "end": format_time(self.end) if self.end is not None else None,
            "duration_seconds": self.duration(now),
            "max_value": round(self.max_value, 3),
            "labels": self.labels,
        }


@dataclass(frozen=True)
class AlertEvent:
    """A rule fired or recovered at second ``at`` with ``value``."""

    kind: Literal["fire", "recover"]
    rule: Rule
    at: int
    value: float | None  # None: the rule has no value (a ratio over no request)
    message: str
    incident: Incident

    @property
    def labels(self) -> dict[str, str]:
        """``alertname`` (the rule's name), the rule's labels and the group's."""
        return {"alertname": self.rule.name, **self.rule.labels, **self.incident.labels}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: one line of the alert file, the body of the generic webhook."""
        return {
            "event": self.kind,
            "rule": self.rule.name,
            "at": format_time(self.at),
            "value": None if self.value is None else round(self.value, 3),
            "op": self.rule.op,
            "threshold": self.rule.threshold,
            "window_seconds": self.rule.window_seconds,
            "message": self.message,
            "labels": self.labels,
            "annotations": self.incident.annotations,
            "incident": self.incident.to_dict(self.at),
        }


class AlertSink(Protocol):
    """Where fire and recover events go (see :mod:`loglens.alerts.notify`)."""

    def send(self, event: AlertEvent) -> None:
        """Deliver one event; raise ``OSError`` on failure."""
        ...


@dataclass
class _Alert:
    """One group of one rule while it is pending or firing."""

    active_at: int  # the first second of this breach
    value: float
    incident: Incident | None = None  # set once it fires
    cleared_at: int | None = None  # firing, and not breached since this second (keep_firing_for)


class AlertEngine:
    """Evaluates rules second by second and turns their values into pending, firing and resolved alerts.

    Prometheus's meaning: a breached group is pending, and fires once it has been breached for the
    rule's ``for_seconds`` (at once with 0); a firing group that is no longer breached resolves once it
    has not been for ``keep_firing_seconds``. A pending group that stops being breached is forgotten.

    Args:
        windows: the per-second buckets; each batch they keep is folded into every rule.
        rules: the rules, each evaluated on every second.
        clock: what :meth:`tick` calls "now" (wall clock live, the logs' own time when replaying).
        incident_limit: how many incidents (newest, active included) :meth:`recent` keeps.
        sinks: notified of every event; a failing sink is counted in :attr:`sink_errors`, never raised.
        detectors: the rate detectors, scored on every second before the rules (which may read them).
    """

    def __init__(
        self,
        windows: Windows,
        rules: Sequence[Rule],
        clock: Clock,
        incident_limit: int = 3,
        sinks: Iterable[AlertSink] = (),
        detectors: RateDetectors | None = None,
    ) -> None:
        self.windows = windows
        self.detectors = detectors
        self.rules = list(rules)
        self.clock = clock
        self.sinks = list(sinks)
        self.incidents: deque[Incident] = deque(maxlen=max(1, incident_limit))
        #: Fire and recover times of the newest incidents, for ``/api/alerts``.
        self.history: deque[Incident] = deque(maxlen=max(HISTORY, incident_limit))
        #: Each rule's value at the last second evaluated (the highest of its groups).
        self.values: dict[str, float] = {rule.name: 0.0 for rule in self.rules}
        #: Times each rule fired (any group).
        self.fired: Counter[str] = Counter()
        #: Each rule's highest value so far, when given a dict to keep them in (``loglens alerts test``).
        self.peaks: dict[str, float] | None = None
        self.last_event: AlertEvent | None = None
        self.sink_errors = 0
        self.lock = threading.RLock()  # one thread evaluates; views on other threads read
        self._alerts: dict[str, dict[Group, _Alert]] = {rule.name: {} for rule in self.rules}
        self._last: int | None = None
        # this many seconds after the newest line every rule's window is empty and every state settled
        self._catch_up = max(
            (r.window_seconds + r.for_seconds + r.keep_firing_seconds for r in self.rules), default=0
        ) + 1 + (detectors.config.window_seconds if detectors is not None else 0)  # fmt: skip
        if self.rules:
            windows.observers.append(self.fold)

    @property
    def evaluated_at(self) -> int | None:
        """The last second evaluated."""
        return self._last

    def fold(self, records: pl.DataFrame, source: str) -> None:
        """Fold records of ``source`` (with their second in ``sec``) into every rule."""
        with self.lock:
            for rule in self.rules:
                rule.fold(records, source)

    def firing(self) -> list[Incident]:
        """Incidents still active, one per firing group."""
        with self.lock:
            return [a.incident for alerts in self._alerts.values() for a in alerts.values() if a.incident]

    def active(self) -> list[tuple[str, str, dict[str, str], int, float]]:
        """``(rule, "pending" or "firing", group labels, since, value)`` of each group pending (since it
        was first breached) or firing (since it fired)."""
        with self.lock:
            rules = {rule.name: rule for rule in self.rules}
            return [
                (name, "firing", dict(a.incident.labels), a.incident.start, a.value)
                if a.incident is not None
                else (name, "pending", rules[name].group_labels(group), a.active_at, a.value)
                for name, alerts in self._alerts.items()
                for group, a in alerts.items()
            ]

    def recent(self) -> list[Incident]:
        """Kept incidents, newest first."""
        with self.lock:
            return list(reversed(self.incidents))

    def tick(self) -> list[AlertEvent]:
        """Evaluate every second up to the clock's now; return the events, oldest first."""
        return self.advance_to(self.clock.now())

    def advance_to(self, now: float) -> list[AlertEvent]:
        """Evaluate every second after the last evaluated one up to ``now``.

        Time never goes back: a ``now`` at or a little before the last evaluated second evaluates that
        second again (its lines may still be arriving); a jump back past every rule window (a reset
        clock, an older log) starts over at ``now``. Seconds later than the newest line plus the longest
        rule window, ``for`` and ``keep_firing_for`` all look the same, so only the first are evaluated.
        """
        with self.lock:
            return self._advance(int(now))

    def _advance(self, second: int) -> list[AlertEvent]:
        last = self._last
        seconds: Sequence[int]
        if last is None or second < last - self._catch_up:
            seconds = [second]
        elif second <= last:
            seconds = [last]
        else:
            newest = self.windows.watermark
            horizon = (last if newest is None else max(last, newest)) + self._catch_up
            if second <= horizon:
                seconds = range(last + 1, second + 1)
            else:
                seconds = [*range(last + 1, horizon + 1), second]
        events: list[AlertEvent] = []
        for sec in seconds:
            for event in self._evaluate(sec):
                self._notify(event)
                events.append(event)
        self._last = seconds[-1]
        return events

    def _evaluate(self, second: int) -> list[AlertEvent]:
        if self.detectors is not None:
            self.detectors.evaluate(second)
        events = []
        for rule in self.rules:
            values = rule.measure(second)
            present = [value for value in values.values() if value is not None]
            self.values[rule.name] = max(present, default=0.0)
            if self.peaks is not None and present:
                self.peaks[rule.name] = max(self.peaks.get(rule.name, present[0]), *present)
            alerts = self._alerts[rule.name]
            for group in [*values, *(g for g in alerts if g not in values)]:
                event = self._step(rule, group, values.get(group), second)
                if event is not None:
                    events.append(event)
        if events:
            self.last_event = events[-1]
        return events

    def _step(self, rule: Rule, group: Group, value: float | None, second: int) -> AlertEvent | None:
        """Move one group's alert on by one second; the event, if it fired or resolved."""
        alerts = self._alerts[rule.name]
        alert = alerts.get(group)
        if rule.breached(value):
            assert value is not None
            if alert is None:
                alert = alerts[group] = _Alert(second, value)
            alert.value, alert.cleared_at = value, None
            if alert.incident is not None:
                alert.incident.max_value = max(alert.incident.max_value, value)
                return None
            if second - alert.active_at < rule.for_seconds:
                return None
            incident = alert.incident = Incident(
                rule.name,
                second,
                value,
                labels=rule.group_labels(group),
                annotations=rule.rendered(group, value),
            )
            self.incidents.append(incident)
            self.history.append(incident)
            self.fired[rule.name] += 1
            return AlertEvent("fire", rule, second, value, rule.fire_message(value, second, group), incident)
        if alert is None:
            return None
        if alert.incident is None:  # pending, and no longer breached
            del alerts[group]
            return None
        if alert.cleared_at is None:
            alert.cleared_at = second
        if second - alert.cleared_at < rule.keep_firing_seconds:
            return None
        del alerts[group]
        incident = alert.incident
        incident.end = second
        message = rule.recover_message(value, second, group)
        return AlertEvent("recover", rule, second, value, message, incident)

    def _notify(self, event: AlertEvent) -> None:
        for sink in self.sinks:
            try:
                sink.send(event)
            except OSError as exc:
                self.sink_errors += 1
                log.warning("alert sink %s failed: %s", type(sink).__name__, exc)

    # -- checkpoint --------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: each rule's seconds, the pending and firing alerts, the history."""
        with self.lock:
            history = list(self.history)
            place = {id(incident): n for n, incident in enumerate(history)}
            return {
                "last": self._last,
                "series": {rule.name: rule.series.to_state() for rule in self.rules},
                "alerts": [
                    {"rule": name, "group": list(group), "active_at": a.active_at, "value": a.value,
                     "cleared_at": a.cleared_at, "incident": place[id(a.incident)] if a.incident else None}
                    for name, alerts in self._alerts.items()
                    for group, a in alerts.items()
                ],
                "history": [_incident_state(incident) for incident in history],
                "fired": dict(self.fired),
            }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`to_state` returned: a rule that was firing still is, unannounced.
        Rules no longer configured are left out."""
        with self.lock:
            rules = {rule.name: rule for rule in self.rules}
            history = [Incident(**{**saved, "labels": dict(saved["labels"])}) for saved in state["history"]]
            self.history.extend(history)
            self.incidents.extend(history[-(self.incidents.maxlen or 1) :])
            for name, series in state["series"].items():
                if name in rules:
                    rules[name].series.restore(series)
            for saved in state["alerts"]:
                if saved["rule"] in self._alerts:
                    incident = history[saved["incident"]] if saved["incident"] is not None else None
                    alert = _Alert(saved["active_at"], saved["value"], incident, saved["cleared_at"])
                    self._alerts[saved["rule"]][tuple(saved["group"])] = alert
            self.fired.update({name: n for name, n in state["fired"].items() if name in rules})
            self._last = state["last"]
            self._resume(rules)

    def _resume(self, rules: dict[str, Rule]) -> None:
        """Tell the sinks that keep a view of what fires (Alertmanager's) about the restored firing
        alerts: their fire events again, to a sink's ``resume``, never to ``send``."""
        firing = [
            AlertEvent("fire", rules[name], a.incident.start, a.value,
                       rules[name].fire_message(a.value, a.incident.start, group), a.incident)
            for name, alerts in self._alerts.items()
            for group, a in alerts.items()
            if a.incident is not None
        ]  # fmt: skip
        for sink in self.sinks:
            resume = getattr(sink, "resume", None)
            if firing and resume is not None:
                resume(firing)


def _incident_state(incident: Incident) -> dict[str, Any]:
    return {"rule": incident.rule, "start": incident.start, "max_value": incident.max_value,
            "end": incident.end, "labels": incident.labels, "annotations": incident.annotations}  # fmt: skip
