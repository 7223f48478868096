"""What the follower shows of its files (``/api/status``), and its read rate."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

#: Seconds over which ``lines_per_second`` is measured.
RATE_WINDOW = 10.0


@dataclass(frozen=True)
class FileView:
    """One open file as ``/api/status`` shows it."""

    path: str
    offset: int
    size: int
    lag_bytes: int
    lines: int
    state: str  # "following", or "draining" once rotated away or deleted


class RateMeter:
    """Lines per second over the last :data:`RATE_WINDOW` seconds, from cumulative samples."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, total: int) -> None:
        """Record the running total of lines read at ``now``."""
        self.samples.append((now, total))
        while len(self.samples) > 1 and self.samples[1][0] <= now - RATE_WINDOW:
            self.samples.popleft()

    def rate(self, now: float, since: float) -> float:
        """Lines per second over the window ending at ``now`` (shorter when started at ``since``)."""
        start = now - RATE_WINDOW
        base = next((total for t, total in reversed(self.samples) if t <= start), 0)
        newest = self.samples[-1][1] if self.samples else 0
        return (newest - base) / max(min(RATE_WINDOW, now - since), 1.0)
