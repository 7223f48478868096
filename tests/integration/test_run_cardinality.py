"""1,000,000 distinct paths (distinct first segments too) through the tail: series and memory stay capped.

Memory is the Python heap retained (tracemalloc), measured after a warm-up and at the end; polars
buffers are transient per batch. Wall time is not asserted.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from loglens.aggregate.counters import Limits
from loglens.aggregate.totals import Totals
from loglens.aggregate.windows import Windows
from loglens.clock import FrozenClock
from loglens.records import Batch
from loglens.sinks.prometheus import TotalsCollector
from loglens.sinks.prometheus_sources import SourceCollector
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower

pytestmark = pytest.mark.integration

STEP = 100_000


def _distinct_lines(start: int, count: int, seconds: int) -> str:
    """Access lines whose paths, and first path segments, are all distinct."""
    return "".join(
        f"10.1.{n % 250}.{n % 200} - - [01/May/2024:12:00:{n % seconds:02d} +0000] "
        f'"GET /s{n}/p{n}?q={n} HTTP/1.1" {200 + n % 5} {n % 9999}\n'
        for n in range(start, start + count)
    )


def _retained_growth(
    tmp_path: Path, total: int, warm_up: int, seconds: int, listener: Callable[[Batch], None] | None = None
) -> tuple[int, Totals, FileFollower]:
    """Tail ``total`` distinct-path lines; return the heap retained after ``warm_up`` lines, grown since."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"
    log.touch()
    totals = Totals(Limits(max_label_values=1000, section_limit=100))
    follower = FileFollower(
        [SourceSpec(str(logs / "*.log"), "combined")],
        totals,
        clock=FrozenClock(),
        listeners=[listener] if listener else [],
    )
    follower.poll()
    baseline = 0
    for start in range(0, total, STEP):
        if start == warm_up:
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(_distinct_lines(start, STEP, seconds))
        while follower.poll():
            pass
    grown = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    return grown, totals, follower


def test_a_million_distinct_paths_keep_series_and_memory_capped(tmp_path: Path) -> None:
    grown, totals, follower = _retained_growth(tmp_path, 1_000_000, 200_000, seconds=60)
    (counters,) = totals.sources.values()
    assert counters.lines == 1_000_000
    assert len(counters.sections) == 101  # 100 sections of their own, then __other__
    assert counters.sections["__other__"] == 1_000_000 - 100

    registry = CollectorRegistry()
    registry.register(TotalsCollector(totals))
    registry.register(SourceCollector(follower, totals))
    series = sum(len(family.samples) for family in registry.collect())
    assert series < 200
    assert grown < 1024 * 1024, f"{grown} bytes retained over 800,000 new distinct paths"
    follower.close()


def test_windows_memory_is_capped_with_distinct_paths(tmp_path: Path) -> None:
    windows = Windows(lateness_seconds=120)

    def add(batch: Batch) -> None:
        windows.add(batch.records, 1.7e9)

    grown, _, follower = _retained_growth(tmp_path, 400_000, 100_000, seconds=10, listener=add)
    follower.close()
    assert grown < 4 * 1024 * 1024, f"{grown} bytes retained over 300,000 new distinct paths"
