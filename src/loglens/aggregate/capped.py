"""A counter whose number of keys is bounded: the first ``capacity`` keys get their own count, later
ones are pooled under ``__other__``, and keys idle past a TTL can be dropped to make room.

Admission is first-come rather than top-K by frequency on purpose: a key's count never moves to another
key, so every per-key total only grows, as a Prometheus counter must.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")

OTHER = "__other__"


class CappedCounter(Generic[K]):
    """Counts per key for at most ``capacity`` keys plus the ``__other__`` pool."""

    def __init__(self, capacity: int, other: K) -> None:
        self.capacity = capacity
        self.other = other
        self._counts: dict[K, float] = {}
        self._seen: dict[K, float] = {}

    def add(self, key: K, amount: float = 1, now: float = 0.0) -> None:
        """Add ``amount`` to ``key`` (or to ``__other__`` when the counter is full)."""
        counts = self._counts
        if key not in counts and len(counts) >= self.capacity and key != self.other:
            key = self.other
        counts[key] = counts.get(key, 0) + amount
        self._seen[key] = now

    def update(self, pairs: Iterable[tuple[K, float]], now: float = 0.0) -> None:
        """Add many ``(key, amount)`` pairs."""
        for key, amount in pairs:
            self.add(key, amount, now)

    def expire(self, before: float) -> int:
        """Drop keys last updated before ``before``; return how many were dropped."""
        stale = [key for key, seen in self._seen.items() if seen < before]
        for key in stale:
            del self._counts[key]
            del self._seen[key]
        return len(stale)

    def most_common(self, n: int | None = None) -> list[tuple[K, float]]:
        """Keys by count, highest first (ties by key)."""
        ranked = sorted(self._counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        return ranked if n is None else ranked[:n]

    def items(self) -> Iterator[tuple[K, float]]:
        """All ``(key, count)`` pairs."""
        return iter(self._counts.items())

    def total(self) -> float:
        """Sum of all counts."""
        return sum(self._counts.values())

    def __len__(self) -> int:
        return len(self._counts)

    def __getitem__(self, key: K) -> float:
        return self._counts.get(key, 0)

    def to_state(self) -> list[list[object]]:
        """Counts as JSON-ready ``[key, count]`` pairs (keys that are tuples become lists)."""
        return [[list(k) if isinstance(k, tuple) else k, v] for k, v in self._counts.items()]

    def load_state(self, pairs: Iterable[list[object]], now: float = 0.0) -> None:
        """Restore counts saved by :meth:`to_state`."""
        for key, value in pairs:
            restored = tuple(key) if isinstance(key, list) else key
            self._counts[restored] = float(value)  # type: ignore[index, arg-type]
            self._seen[restored] = now  # type: ignore[index]
