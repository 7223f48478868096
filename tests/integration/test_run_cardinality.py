"""1,000,000 distinct paths (distinct first segments too) through the tail: series and memory stay capped.

Memory is the Python heap retained (tracemalloc), measured after a warm-up and at the end; polars
buffers are transient per batch. Wall time is not asserted.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from loglens.clock import FrozenClock
from loglens.config import load_settings
from loglens.exposition.runtime import RuntimeCollector
from loglens.exposition.totals import TotalsCollector
from loglens.runtime import Runtime
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
    tmp_path: Path, total: int, warm_up: int, seconds: int, windows: bool
) -> tuple[int, Runtime]:
    """Tail ``total`` distinct-path lines; return the heap retained after ``warm_up`` lines, grown since."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"
    log.touch()
    clock = FrozenClock(1.7e9)
    follower = FileFollower([SourceSpec(str(logs / "*.log"), "combined")], clock=clock)
    settings = load_settings(limits={"max_label_values": 1000, "section_limit": 100})
    runtime = Runtime(settings, [follower], clock=clock, checkpoint=False, windows=windows)
    runtime.poll_once()
    baseline = 0
    for start in range(0, total, STEP):
        if start == warm_up:
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(_distinct_lines(start, STEP, seconds))
        while runtime.poll_once():
            pass
    grown = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    return grown, runtime


def test_a_million_distinct_paths_keep_series_and_memory_capped(tmp_path: Path) -> None:
    grown, runtime = _retained_growth(tmp_path, 1_000_000, 200_000, seconds=60, windows=False)
    (counters,) = runtime.totals.sources.values()
    assert counters.lines == 1_000_000
    assert len(counters.sections) == 101  # 100 sections of their own, then __other__
    assert counters.sections["__other__"] == 1_000_000 - 100

    registry = CollectorRegistry()
    registry.register(TotalsCollector(runtime.totals))
    registry.register(RuntimeCollector(runtime.query))
    series = sum(len(family.samples) for family in registry.collect())
    assert series < 200
    assert grown < 1024 * 1024, f"{grown} bytes retained over 800,000 new distinct paths"
    runtime.close()


def test_windows_memory_is_capped_with_distinct_paths(tmp_path: Path) -> None:
    grown, runtime = _retained_growth(tmp_path, 400_000, 100_000, seconds=10, windows=True)
    runtime.close()
    assert grown < 4 * 1024 * 1024, f"{grown} bytes retained over 300,000 new distinct paths"
