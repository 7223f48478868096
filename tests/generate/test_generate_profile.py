"""``--profile``: traffic over the day and week by event time, exact, and composed with the scenarios."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from generate.generate_helpers import START, START_EPOCH, RecordingOutput, cli, read_lines
from loglens.cli import main
from loglens.clock import FrozenClock
from loglens.generate.curves import DAY, PROFILES, WEEK
from loglens.generate.engine import Generator, Settings
from loglens.generate.profile import RateProfile
from loglens.generate.scenarios import parse_scenario

HOUR = 3600.0
#: Epoch seconds from 2000 to 2040, where a run may start.
origins = st.floats(946_684_800, 2_208_988_800)
rates = st.floats(0.1, 10_000)
windows = st.lists(
    st.tuples(st.floats(0, 2 * DAY), st.floats(0.1, 6 * HOUR), st.floats(0.1, 10), st.floats(0, 100)),
    max_size=3,
)


def _profile(
    name: str, rate: float, origin: float, changes: Sequence[tuple[float, float, float, float]] = ()
) -> RateProfile:
    curve = PROFILES[name]
    return RateProfile(rate, [(s, s + d, f, x) for s, d, f, x in changes], curve, curve.phase(origin))


def _until(origin: float, hour: float, weekday: int | None = None) -> float:
    """Offset from ``origin`` to the next ``hour`` of day (UTC), on ``weekday`` (0: Monday) if given."""
    when = datetime.fromtimestamp(origin, UTC)
    days = 0 if weekday is None else (weekday - when.weekday()) % 7
    target = when.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + days * DAY + hour * HOUR
    return target - origin if target >= origin else target - origin + (DAY if weekday is None else WEEK)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(list(PROFILES)),
    rate=rates,
    origin=origins,
    changes=windows,
    times=st.lists(st.floats(0, 3 * WEEK), min_size=2, max_size=6),
)
def test_due_and_before_never_go_down_and_offsets_always_go_up(
    name: str,
    rate: float,
    origin: float,
    changes: list[tuple[float, float, float, float]],
    times: list[float],
) -> None:
    profile = _profile(name, rate, origin, changes)
    times.sort()
    assert [profile.due(t) for t in times] == sorted(profile.due(t) for t in times)
    assert [profile.before(t) for t in times] == sorted(profile.before(t) for t in times)
    for t in times:  # around each time, past the last scenario and the repeated periods alike
        n = profile.before(t)
        index = np.arange(max(n - 3, 0), n + 3, dtype=np.float64)
        offsets = profile.offsets(index)
        assert np.all(np.diff(offsets) > 0)
        assert all((o < t) == (i < n) for i, o in zip(index, offsets, strict=True) if abs(o - t) > 1e-6)


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(["diurnal", "weekly"]), rate=rates, origin=origins, t=st.floats(0, 5 * WEEK))
def test_rate_is_the_mean_over_every_whole_period(name: str, rate: float, origin: float, t: float) -> None:
    profile = _profile(name, rate, origin)
    period = PROFILES[name].period
    assert profile.count(t + period) - profile.count(t) == pytest.approx(rate * period, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(["diurnal", "weekly"]), rate=rates, origin=origins)
def test_nights_are_below_afternoons(name: str, rate: float, origin: float) -> None:
    profile = _profile(name, rate, origin)

    def hour_at(start: float) -> float:
        return profile.count(start + HOUR) - profile.count(start)

    night = _until(origin, 3.5)  # 03:30 to 04:30 UTC, then 15:30 to 16:30 the same day
    night, afternoon = hour_at(night), hour_at(night + 12 * HOUR)
    assert night < 0.25 * afternoon
    assert night < rate * HOUR < afternoon


@settings(max_examples=50, deadline=None)
@given(rate=rates, origin=origins)
def test_weekly_weekends_are_below_weekdays_and_flat_is_flat(rate: float, origin: float) -> None:
    weekly = _profile("weekly", rate, origin)

    def day_from(start: float) -> float:
        return weekly.count(start + DAY) - weekly.count(start)

    saturday, monday = day_from(_until(origin, 0, weekday=5)), day_from(_until(origin, 0, weekday=0))
    assert saturday == pytest.approx(0.7 * monday, rel=1e-9)
    flat = _profile("flat", rate, origin)
    assert flat.count(_until(origin, 3.5) + HOUR) - flat.count(_until(origin, 3.5)) == pytest.approx(
        rate * HOUR
    )


def test_scenarios_compose_with_the_curve() -> None:
    spike = parse_scenario("spike@3h+1h:factor=4")
    burst = parse_scenario("error-burst@15h+10m:count=500")
    plain = _profile("diurnal", 5.0, START_EPOCH)
    profile = _profile(
        "diurnal", 5.0, START_EPOCH, [(s.start, s.duration, *s.rate_effect()) for s in (spike, burst)]
    )
    spiked = profile.count(4 * HOUR) - profile.count(3 * HOUR)
    assert spiked == pytest.approx(4 * (plain.count(4 * HOUR) - plain.count(3 * HOUR)))  # x4 the night rate
    assert spiked < 0.3 * 4 * 5.0 * HOUR  # at night it multiplies the night rate, not the mean
    bursting = profile.count(burst.end) - profile.count(burst.start)
    assert bursting == pytest.approx(plain.count(burst.end) - plain.count(burst.start) + 500)
    assert profile.count(2 * DAY) == pytest.approx(plain.count(2 * DAY) + 500 + spiked * 3 / 4)


def test_speed_fast_forwards_a_whole_day_in_ten_minutes() -> None:
    clock = FrozenClock(START_EPOCH)
    settings = Settings(
        fmt="iso", rate=0.5, profile="diurnal", duration=DAY, seed=2, start=START_EPOCH, speed=144.0
    )
    out = RecordingOutput(clock)
    generator = Generator(settings, START_EPOCH)
    generator.run(out, clock)
    assert len(out.lines) == 0.5 * DAY
    assert clock.now() - START_EPOCH == pytest.approx(600, abs=1)
    # what is written during the ten minutes follows the curve: 04:00 is 100 s in, 16:00 400 s in

    def written(start: float, end: float) -> int:
        return sum(n for when, n in out.writes if start <= when - START_EPOCH < end)

    assert written(80, 120) < 0.3 * written(380, 420)
    fast = Generator(
        Settings(fmt="iso", rate=0.5, profile="diurnal", duration=DAY, seed=2, start=START_EPOCH), START_EPOCH
    )
    assert out.lines == fast.lines(0, len(out.lines))


def _live_minute(hour: float) -> int:
    """Lines a live (real-time) diurnal run at 100 lines/s writes in its first minute, started at ``hour``."""
    clock = FrozenClock(START_EPOCH + hour * HOUR)
    out = RecordingOutput(clock)
    deadline = clock.now() + 60
    Generator(Settings(rate=100, profile="diurnal", seed=1), clock.now()).run(
        out, clock, should_stop=lambda: clock.now() >= deadline
    )
    return len(out.lines)


def test_live_runs_follow_the_clock_of_the_day() -> None:
    assert _live_minute(4) == pytest.approx(25 * 60, rel=0.05)  # the curve is 0.25 at 04:00
    assert _live_minute(16) == pytest.approx(145 * 60, rel=0.05)  # and 1.45 at 16:00


def _hours(path: Path) -> dict[int, int]:
    report = json.loads(cli("replay", str(path), "-o", "json").stdout)
    return {int(h): n for h, n in report["hours"].items()}


@pytest.mark.parametrize("profile", ["diurnal", "flat"])
def test_a_day_of_diurnal_traffic_shows_a_day_night_curve_in_replay(profile: str, tmp_path: Path) -> None:
    out = tmp_path / "day.log"
    cli(
        "generate",
        "--profile",
        profile,
        "--start",
        START,
        "--duration",
        "1d",
        "--rate",
        "2",
        "--seed",
        "5",
        "-o",
        str(out),
    )
    assert len(read_lines(out)) == 2 * DAY
    hours = _hours(out)
    assert sum(hours.values()) == 2 * DAY and len(hours) == 24
    night = np.mean([hours[h] for h in (2, 3, 4, 5)])
    afternoon = np.mean([hours[h] for h in (13, 14, 15, 16, 17, 18)])
    if profile == "diurnal":
        assert night < 0.3 * afternoon
        assert min(hours, key=hours.__getitem__) in (3, 4) and 12 <= max(hours, key=hours.__getitem__) <= 20
    else:
        assert night == pytest.approx(afternoon, rel=0.01)


def test_profile_in_the_timeline_and_a_bad_name_is_a_usage_error(tmp_path: Path) -> None:
    timeline = tmp_path / "t.json"
    cli(
        "generate",
        "--profile",
        "weekly",
        "--start",
        START,
        "-n",
        "3",
        "-o",
        str(tmp_path / "x.log"),
        "--timeline",
        str(timeline),
    )
    assert json.loads(timeline.read_text())["profile"] == "weekly"
    shown = cli("generate", "--profile", "diurnal", "--start", START, "-n", "3", "--seed", "1", "-s", "spike")
    assert (
        shown.stderr.splitlines()[0]
        == "timeline: origin 2025-01-01T00:00:00.000Z rate 10.0/s profile diurnal seed 1"
    )
    result = CliRunner().invoke(main, ["generate", "--profile", "lunar", "--count", "1"])
    assert result.exit_code == 2
    assert "'lunar' is not one of 'flat', 'diurnal', 'weekly'" in result.output
