"""The rows of one goaccess panel: per key its hits, bytes and time served, at most ``capacity`` keys.

Grouped frames are held until there are :data:`COMPACT_ROWS` rows (or :data:`COMPACT_FRAMES` frames)
of them, then summed in one group-by; past the capacity the least busy keys are pooled as
``__other__``, so no input grows a panel without bound.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import polars as pl

from loglens.aggregate.capped import OTHER

#: Rows, and frames, a panel holds before it sums them (and pools what is past its capacity).
COMPACT_ROWS = 50_000
COMPACT_FRAMES = 100
SCHEMA = {"key": pl.String, "hits": pl.Int64, "bytes": pl.Int64, "served": pl.Float64, "timed": pl.Int64}
SUMS = [pl.col(name).sum() for name in ("hits", "bytes", "served", "timed")]
CASTS = [pl.col(name).cast(kind) for name, kind in SCHEMA.items()]
_TYPED = pl.Schema(SCHEMA)


class Rows:
    """Per key: hits, bytes, and the sum and count of durations; at most ``capacity`` keys."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.frame = pl.DataFrame(schema=SCHEMA)
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0

    def update(self, frame: pl.DataFrame) -> None:
        """Add a frame of ``(key, hits, bytes, served, timed)`` rows."""
        if frame.is_empty():
            return
        self._pending.append(frame if frame.schema == _TYPED else frame.select(CASTS))
        self._pending_rows += len(frame)
        if self._pending_rows >= max(COMPACT_ROWS, self.capacity) or len(self._pending) >= COMPACT_FRAMES:
            self.compact()

    def compact(self) -> None:
        """Sum the pending rows in; past the capacity, pool the least busy keys (ties by key)."""
        if not self._pending:
            return
        self.frame = pooled(pl.concat([self.frame, *self._pending]), self.capacity)
        self._pending, self._pending_rows = [], 0

    def summed(self) -> pl.DataFrame:
        """Every row, the pending ones summed in."""
        self.compact()
        return self.frame

    def to_state(self) -> str:
        """The rows, JSON-ready: an Arrow IPC file in base64 (written in C, where JSON lists of every
        row took a Python call per value each second the checkpoint is saved)."""
        out = io.BytesIO()
        self.summed().write_ipc(out, compression="uncompressed")
        return base64.b64encode(out.getvalue()).decode("ascii")

    def load_state(self, saved: str) -> None:
        """Replace the rows with saved ones (from :meth:`to_state`).

        Raises:
            ValueError: ``saved`` is not rows this wrote.
        """
        try:
            frame = pl.read_ipc(io.BytesIO(base64.b64decode(saved, validate=True))).select(CASTS)
        except (pl.exceptions.PolarsError, OSError, binascii.Error) as exc:
            raise ValueError(f"unreadable panel rows: {exc}") from exc
        self.frame, self._pending, self._pending_rows = pooled(frame, self.capacity), [], 0


def pooled(frame: pl.DataFrame, capacity: int) -> pl.DataFrame:
    """``frame`` summed by key; past ``capacity`` keys, the least busy pooled as ``__other__``."""
    summed = frame.group_by("key").agg(SUMS)
    if len(summed) <= capacity:
        return summed
    ranked = summed.sort(["hits", "key"], descending=[True, False])
    kept = ranked.filter(pl.col("key") != OTHER).head(capacity)
    rest = ranked.join(kept.select("key"), on="key", how="anti")
    return pl.concat([kept, rest.select(pl.lit(OTHER).alias("key"), *SUMS)])


def top(frame: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    """The busiest ``limit`` rows of a summed frame (ties by key): key, hits, bytes, mean time served."""
    ranked = frame.sort(["hits", "key"], descending=[True, False]).head(limit)
    return [row_dict(*values) for values in ranked.iter_rows()]


def row_dict(key: str, hits: int, size: int, served: float, timed: int) -> dict[str, Any]:
    """One row as the page shows it."""
    mean = round(served / timed, 6) if timed else None
    return {"key": key, "hits": int(hits), "bytes": int(size), "mean_seconds": mean}
