"""The alert engine: evaluates rules second by second, keeps firing state, incidents and notifies sinks.

Each evaluation covers every whole second since the previous one, so an alert fires and recovers at the
second it would have live, also when the caller ticks every few seconds or replays old logs fast. Views
(the console, ``/metrics``) read :attr:`AlertEngine.incidents` and :attr:`AlertEngine.values`; they never
change them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from loglens.aggregate.windows import Windows
from loglens.alerts.rules import Rule, format_time
from loglens.clock import Clock

log = logging.getLogger(__name__)


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
    value: float
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
            "value": round(self.value, 3),
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


class AlertEngine:
    """Evaluates rules over :class:`Windows` and turns breaches into incidents and events.

    Args:
        windows: the per-second buckets the rules read.
        rules: the rules, each evaluated on every second.
        clock: what :meth:`tick` calls "now" (wall clock live, the logs' own time when replaying).
        incident_limit: how many incidents (newest, active included) to keep.
        sinks: notified of every event; a failing sink is counted in :attr:`sink_errors`, never raised.
    """

    def __init__(
        self,
        windows: Windows,
        rules: Sequence[Rule],
        clock: Clock,
        incident_limit: int = 3,
        sinks: Iterable[AlertSink] = (),
    ) -> None:
        self.windows = windows
        self.rules = list(rules)
        self.clock = clock
        self.sinks = list(sinks)
        self.incidents: deque[Incident] = deque(maxlen=max(1, incident_limit))
        self.values: dict[str, float] = {rule.name: 0.0 for rule in self.rules}
        self.last_event: AlertEvent | None = None
        self.sink_errors = 0
        self.lock = threading.RLock()  # one thread evaluates; views on other threads read
        self._active: dict[str, Incident] = {}
        self._last: int | None = None
        # this many seconds after the newest line every rule's window is empty
        self._catch_up = max((rule.window_seconds for rule in self.rules), default=0) + 1

    @property
    def evaluated_at(self) -> int | None:
        """The last second evaluated."""
        return self._last

    def firing(self) -> list[Incident]:
        """Incidents still active, one per firing rule."""
        with self.lock:
            return list(self._active.values())

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
        rule window all look the same (empty), so only the first of them are evaluated.
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
        events = []
        for rule in self.rules:
            value = rule.measure(self.windows, second)
            self.values[rule.name] = value
            incident = self._active.get(rule.name)
            if incident is None and rule.breached(value):
                incident = self._active[rule.name] = Incident(rule.name, second, value)
                self.incidents.append(incident)
                message = rule.fire_message(value, second)
                events.append(AlertEvent("fire", rule, second, value, message, incident))
            elif incident is not None and not rule.breached(value):
                incident.end = second
                del self._active[rule.name]
                message = rule.recover_message(value, second)
                events.append(AlertEvent("recover", rule, second, value, message, incident))
            elif incident is not None:
                incident.max_value = max(incident.max_value, value)
        if events:
            self.last_event = events[-1]
        return events

    def _notify(self, event: AlertEvent) -> None:
        for sink in self.sinks:
            try:
                sink.send(event)
            except OSError as exc:
                self.sink_errors += 1
                log.warning("alert sink %s failed: %s", type(sink).__name__, exc)
