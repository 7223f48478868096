"""Incident scenarios: syntax, what each does to the replayed traffic, and the timeline that announces it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from generate.generate_helpers import START, START_EPOCH, cli, make
from loglens.errors import ConfigError
from loglens.generate.scenarios import Scenario, parse_scenario, parse_seconds
from loglens.parsing import parse_lines


def _records(lines: list[str], fmt: str = "combined") -> pl.DataFrame:
    result = parse_lines(lines, format=fmt)
    assert result.rejected.height == 0
    offset = (pl.col("ts").dt.epoch("ms") / 1000 - START_EPOCH).alias("offset")
    return result.records.with_columns(offset)


def _between(records: pl.DataFrame, start: float, end: float) -> pl.DataFrame:
    return records.filter((pl.col("offset") >= start) & (pl.col("offset") < end))


def test_syntax_with_defaults_units_and_parameters() -> None:
    assert parse_scenario("spike@30+20:factor=5") == Scenario("spike", 30, 20, {"factor": 5.0})
    assert parse_scenario("spike") == Scenario("spike", 30, 30, {"factor": 5.0})
    assert parse_scenario("outage@2m") == Scenario("outage", 120, 60, {"ratio": 0.9})
    burst = parse_scenario("error-burst@1h+30s:count=7,service=AuthService")
    assert (burst.start, burst.duration, burst.params) == (3600, 30, {"count": 7, "service": "AuthService"})
    assert parse_scenario("scan:client=2001:db8::1,rate=5").params == {"rate": 5.0, "client": "2001:db8::1"}
    assert parse_seconds("1.5d") == 129600


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("meteor", "unknown scenario"),
        ("spike:speed=3", "bad parameter"),
        ("spike:factor=-1", "> 0"),
        ("spike:factor=inf", "finite"),
        ("error-burst:count=2.5", "not a int"),
        ("outage:ratio=1.5", "within"),
        ("scan:client=nowhere", "not an IP"),
        ("slow@10+0", "duration must be > 0"),
        ("spike@soon", "not a time span"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_scenario(spec)


def test_bad_scenario_is_a_usage_error_on_the_command_line() -> None:
    from click.testing import CliRunner

    from loglens.cli import main

    result = CliRunner().invoke(main, ["generate", "--scenario", "meteor", "--count", "1"])
    assert result.exit_code == 2
    assert "unknown scenario 'meteor'" in result.output


def test_spike_shows_as_a_jump_in_hits_per_second() -> None:
    records = _records(make(3000, 1, ("spike@30+20:factor=5",), rate=20))
    per_second = records.group_by(pl.col("offset").floor()).len().sort("offset")
    hits = dict(zip(per_second["offset"].to_list(), per_second["len"].to_list(), strict=True))
    assert all(hits[s] == 20 for s in range(0, 30))
    assert all(hits[s] == 100 for s in range(30, 50))
    assert all(hits[s] == 20 for s in range(50, 60))


def test_error_burst_packs_count_errors_in_its_window() -> None:
    records = _records(make(6000, 1, ("error-burst@60+10:count=300",), rate=50))
    errors = records.filter(pl.col("status") >= 500)
    inside = _between(errors, 60, 70).height
    outside_rate = (errors.height - inside) / (records.height - _between(records, 60, 70).height)
    assert 300 <= inside <= 300 + 500 * outside_rate * 3 + 5  # the burst, plus the usual few
    assert outside_rate < 0.02
    assert _between(records, 60, 70).height == 500 + 300


def test_error_burst_in_application_logs_is_error_lines_of_one_service() -> None:
    spec = "error-burst@20+5:count=200,service=PaymentService"
    for fmt in ("level", "json"):
        records = _records(make(3000, 2, (spec,), fmt=fmt, app=True, rate=20), fmt)
        errors = _between(records, 20, 25).filter(pl.col("level") == "ERROR")
        assert 200 <= errors.height <= 200 + 100 * 0.3
        before = _between(records, 0, 20)
        assert before.filter(pl.col("level") == "ERROR").height / before.height < 0.2
        if fmt == "json":
            assert (errors["service"] == "PaymentService").sum() >= 200


def test_scan_is_one_clients_404s_inside_the_window_only() -> None:
    records = _records(make(4000, 3, ("scan@40+30:rate=25,client=198.51.100.7",), rate=30))
    scanner = records.filter(pl.col("client") == "198.51.100.7")
    assert scanner.height == 25 * 30
    assert scanner["offset"].min() >= 40 and scanner["offset"].max() < 70  # type: ignore[operator]
    assert (scanner["status"] == 404).mean() > 0.85  # type: ignore[operator]
    assert scanner["path"].n_unique() > 10
    top_404 = Counter(records.filter(pl.col("status") == 404)["client"].to_list()).most_common(1)[0]
    assert top_404[0] == "198.51.100.7"


def test_outage_makes_most_requests_fail_and_slow_raises_durations() -> None:
    lines = make(6000, 4, ("outage@20+20:ratio=0.9", "slow@60+20:factor=10"), rate=50, durations=True)
    records = _records(lines)
    failing = _between(records, 20, 40)["status"] >= 500
    assert failing.mean() == pytest.approx(0.9, abs=0.04)
    assert (_between(records, 0, 20)["status"] >= 500).mean() < 0.02  # type: ignore[operator]
    slow = _between(records, 60, 80)["duration"].median()
    normal = _between(records, 80, 120)["duration"].median()
    assert slow == pytest.approx(10 * normal, rel=0.35)  # type: ignore[operator]


def test_outage_and_slow_in_application_logs() -> None:
    lines = make(6000, 5, ("outage@20+20", "slow@60+20:factor=3"), fmt="json", app=True, rate=50)
    records = _records(lines, "json")
    assert (_between(records, 20, 40)["level"] == "ERROR").mean() > 0.85  # type: ignore[operator]
    slow = _between(records, 60, 80)
    assert slow["message"].str.contains("Slow request").mean() > 0.4  # type: ignore[operator]


def test_timeline_json_matches_the_traffic(tmp_path: Path) -> None:
    timeline, out = tmp_path / "timeline.json", tmp_path / "x.log"
    cli(
        "generate",
        "--start",
        START,
        "--seed",
        "8",
        "--rate",
        "20",
        "--duration",
        "2m",
        "--output",
        str(out),
        "--scenario",
        "spike@30+20:factor=3",
        "--scenario",
        "scan@50+10:rate=10",
        "--timeline",
        str(timeline),
    )
    info = json.loads(timeline.read_text())
    assert info["origin"] == "2025-01-01T00:00:00.000Z"
    assert info["end"] == "2025-01-01T00:02:00.000Z"
    spike, scan = info["scenarios"]
    assert spike == {
        "name": "spike",
        "start": "2025-01-01T00:00:30.000Z",
        "end": "2025-01-01T00:00:50.000Z",
        "start_offset": 30.0,
        "end_offset": 50.0,
        "params": {"factor": 3.0},
        "added_lines": 0,
    }
    assert scan["start"] == "2025-01-01T00:00:50.000Z" and scan["added_lines"] == 100
    records = _records(out.read_text().splitlines())
    assert records.height == info["lines"] == 120 * 20 + 20 * 20 * 2 + 100
    scanner = records.filter(pl.col("client") == scan["params"]["client"])
    assert scanner.height == 100
    first = scanner["ts"].min()
    assert isinstance(first, datetime)
    assert first.isoformat().startswith("2025-01-01T00:00:5")


def test_timeline_goes_to_stderr_without_a_file(tmp_path: Path) -> None:
    result = cli(
        "generate",
        "--start",
        START,
        "--count",
        "5",
        "--seed",
        "1",
        "-o",
        str(tmp_path / "x.log"),
        "--scenario",
        "error-burst@10+5:count=20",
        "--scenario",
        "slow",
    )
    lines = result.stderr.splitlines()
    assert lines[0] == "timeline: origin 2025-01-01T00:00:00.000Z rate 10.0/s seed 1"
    assert lines[1] == "timeline: error-burst 2025-01-01T00:00:10.000Z .. 2025-01-01T00:00:15.000Z count=20"
    assert lines[2] == "timeline: slow 2025-01-01T00:00:30.000Z .. 2025-01-01T00:01:30.000Z factor=10.0"
    assert result.stdout == ""
