"""One series' history: counts per minute (the zscore baseline) and per slot of a quarter hour (the
seasonal one), each a ring of unsigned 32-bit counts, kept in the checkpoint as zlib-compressed base64.

A minute or slot is complete only when every one of its seconds was evaluated; one that was not (the
first after a start, the time loglens was down) is :data:`MISSING` and left out of every baseline.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np

#: Seconds of one seasonal slot.
SLOT_SECONDS = 900
#: Slots in a day.
DAY_SLOTS = 86400 // SLOT_SECONDS
#: The count of a minute or slot not wholly seen.
MISSING = np.uint32(0xFFFFFFFF)
_LARGEST = int(MISSING) - 1


def encode(values: np.ndarray) -> str:
    """``values`` (uint32) as base64 of their zlib-compressed little-endian bytes."""
    return base64.b64encode(zlib.compress(values.astype("<u4").tobytes(), 1)).decode()


def decode(text: str, size: int) -> np.ndarray:
    """What :func:`encode` returned; all MISSING unless it holds ``size`` counts (a ring of another
    size places its periods elsewhere)."""
    saved = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<u4").astype(np.uint32)
    return saved if saved.size == size else np.full(size, MISSING, dtype=np.uint32)


class Ring:
    """Counts of consecutive periods of ``period`` seconds: the last ``size`` complete ones, and the
    one being counted."""

    def __init__(self, period: int, size: int) -> None:
        self.period = period
        self.values = np.full(size, MISSING, dtype=np.uint32)
        self.current: int | None = None  # the period being counted
        self.count = 0
        self.seen = 0  # seconds of the current period evaluated
        self.version = 0  # bumped when a period closes
        self._encoded: tuple[int, str] | None = None

    def add(self, second: int, count: int, seen: bool = True) -> None:
        """Count ``count`` at ``second`` (not ``seen``: a second nobody evaluated, left out)."""
        index = second // self.period
        if index != self.current:
            self._close(index)
        self.count += count
        self.seen += seen

    def _close(self, index: int) -> None:
        """Close the current period and every one skipped before ``index``."""
        size = self.values.size
        if self.current is not None and index > self.current:
            complete = self.seen == self.period
            self.values[self.current % size] = min(self.count, _LARGEST) if complete else MISSING
            skipped = np.arange(self.current + 1, min(index, self.current + 1 + size))
            self.values[skipped % size] = MISSING
        elif self.current is not None:  # time went back past a period: start over
            self.values[:] = MISSING
        self.current, self.count, self.seen = index, 0, 0
        self.version += 1

    def fill(self, first: int, last: int, seen: bool) -> None:
        """Count every second from ``first`` to ``last`` as 0, seen or not."""
        if last < first:
            return
        end = last // self.period
        for index in range(max(first // self.period, end - self.values.size - 1), end + 1):
            low = max(first, index * self.period)
            high = min(last, index * self.period + self.period - 1)
            if index != self.current:
                self._close(index)
            self.seen += (high - low + 1) * seen

    def at(self, index: int) -> int | None:
        """The count of the complete period ``index`` (None: missing, or not kept)."""
        if self.current is None or not self.current - self.values.size <= index < self.current:
            return None
        value = self.values[index % self.values.size]
        return None if value == MISSING else int(value)

    def complete(self) -> np.ndarray:
        """The counts of the complete periods kept (in no particular order)."""
        return self.values[self.values != MISSING].astype(np.float64)

    def to_state(self) -> dict[str, Any]:
        """JSON-ready; the ring's encoding is redone only when a period has closed since the last."""
        if self._encoded is None or self._encoded[0] != self.version:
            self._encoded = (self.version, encode(self.values))
        return {"current": self.current, "count": self.count, "seen": self.seen, "values": self._encoded[1]}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back :meth:`to_state`."""
        self.values = decode(state["values"], self.values.size)
        self.current, self.count, self.seen = state["current"], state["count"], state["seen"]
        self.version += 1
