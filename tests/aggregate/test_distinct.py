"""HyperLogLog distinct counts: exact when small, within a few percent when large, merge = union."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.aggregate.distinct import HyperLogLog


@settings(max_examples=100, deadline=None)
@given(st.sets(st.text(max_size=20), max_size=40))
def test_small_sets_are_counted_exactly(values: set[str]) -> None:
    sketch = HyperLogLog()
    sketch.add(pl.Series(sorted(values), dtype=pl.String))
    sketch.add(pl.Series(sorted(values), dtype=pl.String))  # repeats do not count
    assert sketch.count() == len(values)


@pytest.mark.parametrize("n", [1_000, 50_000, 400_000])
def test_large_counts_are_within_five_percent(n: int) -> None:
    sketch = HyperLogLog()
    sketch.add(pl.Series([f"client-{i}" for i in range(n)]))
    assert abs(sketch.count() - n) / n < 0.05


def test_merge_counts_the_union() -> None:
    left, right = HyperLogLog(), HyperLogLog()
    left.add(pl.Series([f"a{i}" for i in range(30)]))
    right.add(pl.Series([f"a{i}" for i in range(20, 50)]))
    left.merge(right)
    assert left.count() == 50
    assert HyperLogLog().count() == 0
