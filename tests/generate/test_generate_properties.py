"""Property tests: any seed and settings give well-formed lines; rotation never loses or reorders a line."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from generate.generate_helpers import PATTERNS, make, read_lines
from loglens.generate.outputs import RotatingFile
from loglens.generate.profile import RateProfile

SHAPES = [k for k in PATTERNS if not k.startswith("level:")] + ["json", "json:app"]
scenario = st.sampled_from(
    [
        "spike@5+5:factor=3",
        "error-burst@2+3:count=20",
        "outage@1+4",
        "slow@0+9",
        "scan@3+2:rate=7",
        "spike@4+1:factor=0.5",
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.sampled_from(SHAPES),
    rate=st.floats(0.5, 500),
    scenarios=st.lists(scenario, max_size=3),
    count=st.integers(1, 300),
)
def test_any_seed_gives_lines_of_the_exact_shape(
    seed: int, shape: str, rate: float, scenarios: list[str], count: int
) -> None:
    app = shape in ("level", "json:app")
    fmt = shape.split("+")[0].split(":")[0]
    lines = make(
        count, seed, tuple(scenarios), fmt=fmt, app=app, rate=rate, durations=shape.endswith("durations")
    )
    assert len(lines) == count
    if fmt == "json":
        assert all(isinstance(orjson.loads(line), dict) for line in lines)
    else:
        assert all(PATTERNS[shape].match(line) for line in lines), lines[:3]


windows = st.lists(
    st.tuples(st.floats(0, 100), st.floats(0.1, 50), st.floats(0.1, 10), st.floats(0, 100)), max_size=4
)


@settings(max_examples=100, deadline=None)
@given(rate=st.floats(0.1, 10_000), changes=windows, t=st.floats(0, 200))
def test_profile_offsets_and_counts_agree(
    rate: float, changes: list[tuple[float, float, float, float]], t: float
) -> None:
    profile = RateProfile(rate, [(s, s + d, f, x) for s, d, f, x in changes])
    n = profile.before(t)
    index = np.arange(max(n - 3, 0), n + 3, dtype=np.float64)
    offsets = profile.offsets(index)
    assert np.all(np.diff(offsets) > 0)
    assert all((o < t) == (i < n) for i, o in zip(index, offsets, strict=True) if abs(o - t) > 1e-6)
    assert profile.due(t) >= n


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(st.lists(st.text("abcxyz0123", min_size=0, max_size=40), max_size=30), max_size=8),
    limit=st.integers(1, 300),
    mode=st.sampled_from(["rename", "copytruncate"]),
)
def test_rotation_keeps_every_line_in_order(batches: list[list[str]], limit: int, mode: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.log"
        rotating = RotatingFile(path, rotate_bytes=limit, mode=mode, keep=0)
        for batch in batches:
            rotating.write(batch)
        rotating.close()
        files = [*sorted(path.parent.glob("x.log.*"), key=lambda p: int(p.suffix[1:]), reverse=True), path]
        assert [line for f in files for line in read_lines(f)] == [line for b in batches for line in b]
        for f in files:
            lines = read_lines(f)
            assert f.stat().st_size <= limit or len(lines) == 1
