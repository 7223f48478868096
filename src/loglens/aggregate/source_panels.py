"""The goaccess panels of one source (or of one of its minutes), and their checkpoint form."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from loglens.aggregate.distinct import HyperLogLog
from loglens.aggregate.panel_rows import Rows

#: The panels, in the page's order.
PANELS: tuple[str, ...] = (
    "visitors", "paths", "static", "not_found", "clients", "os", "browsers", "bots", "hours",
    "referring_sites", "referrers", "status", "vhosts", "users",
)  # fmt: skip
#: Kept with the panels for the summary of one source over a time range (the windows hold every source
#: together): methods, sections, and the sections of the 4xx and 5xx responses.
SUMMARY_PANELS: tuple[str, ...] = ("methods", "sections", "section_errors")
#: Days whose visitors are kept (a year), oldest dropped first.
MAX_DAYS = 366
_DAY = 86_400


class SourcePanels:
    """Every panel's rows (of ``names``: a minute's also :data:`SUMMARY_PANELS`), and per day a sketch of
    its visitors (client address and user agent)."""

    def __init__(self, capacity: int, names: tuple[str, ...] = PANELS) -> None:
        self.panels: dict[str, Rows] = {name: Rows(24 if name == "hours" else capacity) for name in names}
        self.days: dict[str, HyperLogLog] = {}
        #: Every record's line (the access records' and the others'), and the records per level.
        self.lines = 0
        self.levels: Counter[str] = Counter()

    def count_lines(self, records: pl.DataFrame) -> None:
        """Count a batch's records, and their levels (normalized, so a few keys at most)."""
        self.lines += len(records)
        levels = records["level"]
        if levels.null_count() < len(levels):
            self.levels.update(dict(levels.drop_nulls().value_counts().iter_rows()))

    def add_visitors(self, day: int, hashes: list[int]) -> None:
        """Count the visitors (by hash) of ``day`` (days since the epoch); a year of days is kept."""
        name = datetime.fromtimestamp(day * _DAY, UTC).date().isoformat()
        sketch = self.days.get(name)
        if sketch is None:
            if len(self.days) >= MAX_DAYS:
                oldest = min(self.days)
                if name < oldest:
                    return
                del self.days[oldest]
            sketch = self.days[name] = HyperLogLog()
        sketch.add_hashes(np.asarray(hashes, dtype=np.uint64))

    @staticmethod
    def merged_visitors(chosen: Iterable[SourcePanels]) -> dict[str, int]:
        """Visitors per day of every one of ``chosen`` together (a visitor of two counts once)."""
        merged: dict[str, HyperLogLog] = {}
        for panels in chosen:
            for day, sketch in panels.days.items():
                merged.setdefault(day, HyperLogLog()).merge(sketch)
        return {day: sketch.count() for day, sketch in merged.items()}

    def to_state(self) -> dict[str, Any]:
        """Rows per panel, and each day's sketch (its hashes, or its registers in base64)."""
        days: dict[str, Any] = {}
        for day, sketch in self.days.items():
            if sketch.exact is not None:
                days[day] = {"exact": sorted(sketch.exact)}
            else:
                assert sketch.registers is not None
                days[day] = {"registers": base64.b64encode(sketch.registers.tobytes()).decode("ascii")}
        return {"panels": {name: rows.to_state() for name, rows in self.panels.items()}, "days": days}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`to_state` saved."""
        for name, rows in state.get("panels", {}).items():
            if name in self.panels:
                self.panels[name].load_state(rows)
        for day, saved in state.get("days", {}).items():
            sketch = self.days[day] = HyperLogLog()
            if "exact" in saved:
                sketch.exact = {int(value) for value in saved["exact"]}
            else:
                sketch.exact = None
                sketch.registers = np.frombuffer(base64.b64decode(saved["registers"]), dtype=np.uint8).copy()
