"""Alert rules: what to measure over the per-second windows and when that measure is alarming.

A rule is one small class: :meth:`Rule.measure` reads :class:`~loglens.aggregate.windows.Windows` at a
given second and :meth:`Rule.breached` says whether the value is over the line. The engine
(:mod:`loglens.alerts.engine`) turns breaches into fire / recover events. A new rule (error rate,
"N errors in X seconds", a statistical anomaly) is one new subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime

from loglens.aggregate.windows import Windows

#: How alert times are written everywhere (messages, ``--alert-log``, ``/api/alerts``): RFC 3339, UTC, to
#: the second.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(second: float) -> str:
    """``second`` (epoch seconds) as RFC 3339 UTC, like ``2026-12-01T07:56:43Z``."""
    return datetime.fromtimestamp(int(second), UTC).strftime(TIME_FORMAT)


class Rule(ABC):
    """A condition over the last ``window_seconds`` seconds that fires at ``threshold``.

    Attributes:
        name: stable identifier (alert log, metrics).
        title: how messages name the alert, e.g. ``High traffic``.
        label: what the value is called in messages, e.g. ``hits``.
        threshold: the value at which the rule fires.
        window_seconds: how far back the rule looks; the engine uses it to bound catch-up.
    """

    name: str
    title: str
    label: str
    #: How the value compares with the threshold when the rule is breached.
    op: str = ">="
    #: Labels every alert of the rule carries; annotation templates, rendered per group.
    labels: dict[str, str] = {}  # noqa: RUF012 (read-only default)
    annotations: dict[str, str] = {}  # noqa: RUF012

    def __init__(self, threshold: float, window_seconds: int) -> None:
        if window_seconds < 1:
            raise ValueError("window_seconds must be >= 1")
        self.threshold = threshold
        self.window_seconds = int(window_seconds)

    @abstractmethod
    def measure(self, windows: Windows, now: int) -> float:
        """The rule's value over the seconds ``s`` with ``now - window_seconds < s <= now``."""

    def breached(self, value: float) -> bool:
        """Whether ``value`` is alarming (default: at or above the threshold)."""
        return value >= self.threshold

    def fire_message(self, value: float, at: float) -> str:
        """The line shown and logged when the rule fires."""
        return f"{self.title} generated an alert - {self.label} = {value:.1f}, triggered at {format_time(at)}"

    def recover_message(self, value: float, at: float) -> str:
        """The line shown and logged when the rule recovers."""
        return f"{self.title} alert recovered at {format_time(at)} - {self.label} = {value:.1f}"


class HitRateRule(Rule):
    """High traffic: the hits of the last ``window_seconds`` seconds divided by ``window_seconds``."""

    name = "high_traffic"
    title = "High traffic"
    label = "hits"

    def measure(self, windows: Windows, now: int) -> float:
        """Average hits per second over the window."""
        return windows.hits(now - self.window_seconds, now) / self.window_seconds
