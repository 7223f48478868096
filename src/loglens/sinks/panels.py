"""A sink that folds the visitor panels of a report (clients, not found, referrers, agents, hours).

The panels fold in their own thread, one batch at a time and in order, while the runtime folds the
totals of the next batch: polars releases the GIL, so the two overlap.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import polars as pl

from loglens.aggregate.breakdown import Breakdown, warm_up
from loglens.records import Batch


class Panels(Protocol):
    """Anything that folds records: the report's :class:`Breakdown`, the web page's panels."""

    def update(self, records: pl.DataFrame, source: str = "") -> None: ...


class PanelSink:
    """Folds every batch into its panels (a :class:`Breakdown` by default)."""

    name = "panels"

    def __init__(self, breakdown: Panels | None = None) -> None:
        self.breakdown: Panels = breakdown or Breakdown()
        warm_up()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="loglens-panels")
        self._folding: Future[None] | None = None

    def write(self, batch: Batch) -> None:
        """Fold ``batch`` once the previous one is folded (its failure is raised here)."""
        self.flush()
        self._folding = self._pool.submit(self.breakdown.update, batch.records, batch.source)

    def flush(self) -> None:
        """Wait for the batch being folded."""
        folding, self._folding = self._folding, None
        if folding is not None:
            folding.result()

    def state(self) -> dict[str, Any]:
        """The panels' state, once every batch written is folded (a report's :class:`Breakdown`:
        nothing, it is not resumed)."""
        self.flush()
        to_state = getattr(self.breakdown, "to_state", None)
        return to_state() if to_state is not None else {}

    def restore(self, state: dict[str, Any]) -> None:
        """Restore the panels' state (a checkpoint's)."""
        load_state = getattr(self.breakdown, "load_state", None)
        if load_state is not None and state:
            load_state(state)

    def close(self) -> None:
        """Finish folding and stop the thread."""
        try:
            self.flush()
        finally:
            self._pool.shutdown()
