"""One series as the detectors keep it: its history, its last few seconds, and its baselines.

The zscore baseline is the median and MAD of the complete minutes of the last ``baseline_minutes``. The
seasonal one is taken at the same slot of earlier days (the median over the last week's days), or of
the same weekday in earlier weeks once at least :data:`WEEKS_NEEDED` of them are kept. Daily patterns
drift by minutes, and a slot's mean smears a change inside it, so the slots before and after are
baselines too (the detectors keep the score nearest 0). Baselines are recomputed only when a period
closes.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from loglens.anomaly.config import AnomalyConfig
from loglens.anomaly.history import DAY_SLOTS, SLOT_SECONDS, Ring
from loglens.anomaly.score import Baseline, baseline_of

#: Weekly samples needed before the seasonal baseline compares weekdays with themselves.
WEEKS_NEEDED = 3
#: Earlier days the daily seasonal baseline looks at.
DAYS_LOOKED_AT = 7
#: The least relative spread the seasonal baseline assumes: a few days cannot measure their own.
SEASONAL_SPREAD_FLOOR = 0.1


class Tracked:
    """The history and current window of one series."""

    def __init__(self, config: AnomalyConfig) -> None:
        self.config = config
        self.minutes = Ring(60, config.baseline_minutes)
        self.slots = Ring(SLOT_SECONDS, config.history_days * DAY_SLOTS)
        self.window: deque[int] = deque([0] * config.window_seconds, maxlen=config.window_seconds)
        self.observed = 0  # the sum of ``window``
        self._zscore: tuple[int, Baseline | None] = (-1, None)
        self._slot_version = -1
        self._slot_baselines: dict[int, Baseline | None] = {}
        self._seasonal: tuple[int, list[Baseline]] = (-1, [])

    def push(self, second: int, count: int) -> None:
        """Count the complete second ``second`` (every second in order)."""
        self.minutes.add(second, count)
        self.slots.add(second, count)
        self.observed += count - self.window[0]
        self.window.append(count)

    def fill(self, first: int, last: int, seen: bool) -> None:
        """Seconds ``first`` to ``last`` were empty (``seen``) or not evaluated at all."""
        self.minutes.fill(first, last, seen)
        self.slots.fill(first, last, seen)
        self.window.extend([0] * min(last - first + 1, self.window.maxlen or 0))
        self.observed = sum(self.window)

    def zscore(self) -> Baseline | None:
        """The rolling baseline (None during the warm-up)."""
        version, baseline = self._zscore
        if version != self.minutes.version:
            counts = self.minutes.complete()
            baseline = baseline_of(counts, 60) if counts.size >= self.config.warmup_minutes else None
            self._zscore = (self.minutes.version, baseline)
        return baseline

    def seasonal(self, at: float) -> list[Baseline]:
        """The seasonal baselines of the slot of time ``at`` and of its neighbours (none until earlier
        days cover them)."""
        slot = int(at) // SLOT_SECONDS
        if self._slot_version != self.slots.version:
            self._slot_version, self._slot_baselines = self.slots.version, {}
        elif self._seasonal[0] == slot:
            return self._seasonal[1]
        found = (self._slot(index) for index in (slot - 1, slot, slot + 1))
        self._seasonal = (slot, [baseline for baseline in found if baseline is not None])
        return self._seasonal[1]

    def _slot(self, index: int) -> Baseline | None:
        if index not in self._slot_baselines:
            self._slot_baselines[index] = self._slot_baseline(index)
        return self._slot_baselines[index]

    def _slot_baseline(self, index: int) -> Baseline | None:
        """The baseline of slot ``index`` from the same slot of earlier days or weeks."""
        days = self.config.history_days
        weekly = [self.slots.at(index - d * DAY_SLOTS) for d in range(7, days + 1, 7)]
        samples = [count for count in weekly if count is not None]
        if len(samples) < WEEKS_NEEDED:
            daily = (self.slots.at(index - d * DAY_SLOTS) for d in range(1, min(days, DAYS_LOOKED_AT) + 1))
            samples = [count for count in daily if count is not None]
        if len(samples) < self.config.seasonal_min_days:
            return None
        return baseline_of(np.array(samples, dtype=np.float64), SLOT_SECONDS, SEASONAL_SPREAD_FLOOR)

    def to_state(self) -> dict[str, Any]:
        """JSON-ready."""
        minutes, slots = self.minutes.to_state(), self.slots.to_state()
        return {"minutes": minutes, "slots": slots, "window": list(self.window)}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back :meth:`to_state`."""
        self.minutes.restore(state["minutes"])
        self.slots.restore(state["slots"])
        self.window.extend(state["window"])
        self.observed = sum(self.window)
