"""An injectable clock: production code asks it for the time, tests freeze and step it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Source of the current time in seconds since the epoch (UTC)."""

    def now(self) -> float:
        """Return the current time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a frozen clock just moves forward)."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        """Return the frozen time."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Advance instead of blocking."""
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._now += seconds

    def set(self, when: float) -> None:
        """Jump the clock to ``when``."""
        self._now = when
