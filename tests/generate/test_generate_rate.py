"""Rate control: exact on average and smooth within the second with an injected clock, whatever sleeps do."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from generate.generate_helpers import START_EPOCH, RecordingOutput, read_lines
from loglens.clock import FrozenClock
from loglens.generate.engine import Generator, Settings
from loglens.generate.scenarios import parse_scenario
from loglens.parsing import parse_lines


class JitteryClock(FrozenClock):
    """A frozen clock whose sleeps return late, like a loaded machine's: 1x to 3x, sometimes 50 ms more."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._random = random.Random(seed)

    def sleep(self, seconds: float) -> None:
        """Advance by more than asked."""
        stall = 0.05 if self._random.random() < 0.02 else 0.0
        self.advance(seconds * self._random.uniform(1.0, 3.0) + stall)


def _epochs(ts: pl.Series) -> list[float]:
    return [ms / 1000 for ms in ts.dt.epoch("ms").to_list()]


def _run_for(
    settings: Settings, clock: FrozenClock, seconds: float, cost_per_line: float = 0.0
) -> RecordingOutput:
    out = RecordingOutput(clock, cost_per_line=cost_per_line)
    deadline = clock.now() + seconds
    generator = Generator(settings, clock.now())
    generator.run(out, clock, should_stop=lambda: clock.now() >= deadline)
    return out


@pytest.mark.parametrize("rate", [50_000, 1_000, 7.5])
def test_rate_is_exact_over_ten_seconds_with_a_frozen_clock(rate: float) -> None:
    clock = FrozenClock()
    out = _run_for(Settings(rate=rate, seed=1), clock, 10.0)
    assert len(out.lines) == pytest.approx(rate * 10, rel=0.02, abs=1)


def test_rate_holds_when_sleeps_are_late_and_writing_costs_time() -> None:
    clock = JitteryClock(seed=3)
    out = _run_for(Settings(rate=50_000, seed=1), clock, 10.0, cost_per_line=4e-6)
    assert len(out.lines) == pytest.approx(500_000, rel=0.02)
    assert max(n for _, n in out.writes) < 50_000 * 0.2  # never a burst of more than a fifth of a second


def test_lines_are_spread_evenly_within_each_second() -> None:
    clock = FrozenClock()
    start = clock.now()
    out = _run_for(Settings(rate=50_000, seed=1), clock, 3.0)
    buckets = [0] * 30
    for when, n in out.writes:
        buckets[min(int((when - start) * 10), 29)] += n
    assert all(b == pytest.approx(5000, rel=0.02) for b in buckets[1:])
    assert len(out.writes) >= 290  # about a hundred slices a second


def test_duration_and_count_end_the_run_and_paced_lines_equal_fast_lines() -> None:
    clock = FrozenClock(START_EPOCH)
    settings = Settings(rate=400, duration=5.0, seed=9, start=START_EPOCH, speed=1.0)
    out = RecordingOutput(clock)
    Generator(settings, START_EPOCH).run(out, clock)
    assert len(out.lines) == 2000
    assert clock.now() - START_EPOCH == pytest.approx(5.0, abs=0.05)
    fast = Generator(Settings(rate=400, duration=5.0, seed=9, start=START_EPOCH), START_EPOCH)
    assert out.lines == fast.lines(0, 2000)
    assert Generator(Settings(rate=400, count=123, duration=5.0, start=0.0), 0.0).total == 123


def test_speed_fast_forwards_event_time() -> None:
    clock = FrozenClock(START_EPOCH)
    settings = Settings(fmt="iso", rate=100, duration=600.0, seed=2, start=START_EPOCH, speed=60.0)
    out = RecordingOutput(clock)
    Generator(settings, START_EPOCH).run(out, clock)
    assert len(out.lines) == 60_000
    assert clock.now() - START_EPOCH == pytest.approx(10.0, abs=0.05)  # ten minutes of logs in ten seconds
    seconds = _epochs(parse_lines(out.lines, format="iso").records["ts"])
    assert max(seconds) - min(seconds) == pytest.approx(600, abs=0.1)


def test_event_times_follow_the_rate_profile_including_spikes() -> None:
    settings = Settings(rate=10, start=0.0, seed=1, scenarios=(parse_scenario("spike@10+10:factor=4"),))
    generator = Generator(settings, 0.0)
    assert generator.profile.before(10) == 100
    assert generator.profile.before(20) == 100 + 400
    assert generator.profile.before(30) == 600
    assert generator.profile.offset(100) == 10.0
    assert generator.profile.offset(101) == pytest.approx(10.025)
    assert generator.profile.offset(500) == 20.0


def test_unpaced_run_ignores_the_clock() -> None:
    clock = FrozenClock(0)
    out = RecordingOutput(clock)
    Generator(Settings(count=20_000, start=START_EPOCH), START_EPOCH).run(out, clock)
    assert len(out.lines) == 20_000
    assert clock.now() == 0


def test_real_time_run_writes_the_rate_for_the_duration(tmp_path: Path) -> None:
    """The acceptance run, as a real process: --rate 2000 --duration 5 (takes 5 s of wall time)."""
    out = tmp_path / "live.log"
    started = time.time()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "loglens",
            "generate",
            "--rate",
            "2000",
            "--duration",
            "5",
            "--output",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    elapsed = time.time() - started
    lines = read_lines(out)
    assert len(lines) == pytest.approx(10_000, rel=0.03)
    assert elapsed >= 4.9  # paced, not dumped at once
    seconds = _epochs(parse_lines(lines, format="combined").records["ts"])
    assert abs(min(seconds) - started) < 5  # timestamps are "now"
    assert max(seconds) - min(seconds) == pytest.approx(5, abs=1.01)
    assert max(seconds) <= time.time()
