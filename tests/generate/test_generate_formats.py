"""Every format: exact shape, byte-for-byte determinism, and round trip through the real parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pytest

from generate.generate_helpers import ACCESS_KEYS, APP_KEYS, PATTERNS, START, VARIANTS, cli, make, read_lines
from loglens.parsing import parse_lines

IDS = [" ".join(args) for args, _ in VARIANTS]


def _generate(tmp_path: Path, name: str, args: tuple[str, ...], *extra: str) -> Path:
    out = tmp_path / name
    cli("generate", *args, "--count", "10000", "--seed", "1", "--start", START, "--output", str(out), *extra)
    return out


@pytest.mark.parametrize(("args", "shape"), VARIANTS, ids=IDS)
def test_same_seed_same_bytes_and_every_line_has_the_exact_shape(
    tmp_path: Path, args: tuple[str, ...], shape: str
) -> None:
    first = _generate(tmp_path, "a.log", args)
    second = _generate(tmp_path, "b.log", args)
    other = _generate(tmp_path, "c.log", args, "--seed", "2")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    lines = read_lines(first)
    assert len(lines) == 10000
    if shape.startswith("json"):
        keys = APP_KEYS if shape == "json:app" else ACCESS_KEYS
        records = [orjson.loads(line) for line in lines]
        assert all(set(keys) <= set(r) for r in records)
        assert all(r["ts"].endswith("Z") and len(r["ts"]) == 24 for r in records)
    else:
        bad = [line for line in lines if not PATTERNS[shape].match(line)]
        assert bad == []


@pytest.mark.parametrize(("args", "shape"), VARIANTS, ids=IDS)
def test_replay_parses_every_generated_line(tmp_path: Path, args: tuple[str, ...], shape: str) -> None:
    out = _generate(tmp_path, "x.log", args)
    fmt = args[1]
    for parse_as in (fmt, "auto"):
        report = json.loads(cli("replay", "--output", "json", "--format", parse_as, str(out)).stdout)
        assert report["lines"] == report["parsed"] == 10000
        assert report["parse_errors"] == {}
        assert report["first_ts"].startswith("2025-01-01T00:00:00")


def _truth(seed: int = 5) -> pl.DataFrame:
    """Access fields as generated, decoded from the JSON twin with orjson (no loglens parser involved)."""
    rows = [orjson.loads(line) for line in make(3000, seed, fmt="json", durations=True)]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", time_zone="UTC")
    )
    return frame.with_columns(pl.when(pl.col("referer") != "-").then(pl.col("referer")).alias("referer"))


@pytest.mark.parametrize("fmt", ["common", "combined", "iso", "json"])
def test_access_formats_round_trip_every_field(fmt: str) -> None:
    truth = _truth()
    lines = make(3000, 5, fmt=fmt, durations=fmt in ("combined", "json"))
    records = parse_lines(lines, format=fmt).records
    assert records.height == 3000
    for column in ("client", "user", "method", "path", "protocol", "status"):
        assert records[column].to_list() == truth[column].to_list(), column
    sizes = truth["bytes"].to_list()
    assert records["bytes"].to_list() == sizes
    ts = truth["ts"] if fmt in ("iso", "json") else truth["ts"].dt.truncate("1s")
    assert records["ts"].to_list() == ts.to_list()
    if fmt in ("combined", "json"):
        referers = records["referer"].to_list()
        assert [None if r == "-" else r for r in referers] == truth["referer"].to_list()
        assert records["agent"].to_list() == truth["agent"].to_list()
        assert records["duration"].to_list() == truth["duration"].to_list()


def test_access_round_trip_sees_dashes_for_missing_user_and_bytes() -> None:
    lines = make(5000, 2, fmt="common")
    records = parse_lines(lines, format="common").records
    assert any(" - - [" in line for line in lines)
    assert records["user"].null_count() > 0
    assert records["user"].drop_nulls().len() > 0
    assert any(line.endswith(" 304 -") or line.endswith(" 204 -") for line in lines)


@pytest.mark.parametrize("style", ["iso", "log4j", "apache", "hdfs", "spark"])
def test_level_styles_round_trip_level_message_and_time(style: str) -> None:
    truth = [orjson.loads(line) for line in make(3000, 7, fmt="json", app=True)]
    records = parse_lines(make(3000, 7, fmt="level", app=True, level_style=style), format="level").records
    assert records.height == 3000
    assert records["level"].to_list() == [r["level"] for r in truth]
    assert records["message"].to_list() == [r["msg"] for r in truth]
    resolution = "1ms" if style in ("iso", "log4j") else "1s"
    expected = [datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) for r in truth]
    assert records["ts"].to_list() == pl.Series(expected).dt.truncate(resolution).to_list()
    if style in ("hdfs", "spark"):
        assert records["service"].to_list() == [f"app.{r['service']}" for r in truth]


def test_json_app_records_round_trip() -> None:
    lines = make(2000, 3, fmt="json", app=True)
    records = parse_lines(lines, format="json").records
    truth = [orjson.loads(line) for line in lines]
    assert records["service"].to_list() == [r["service"] for r in truth]
    assert records["level"].to_list() == [r["level"] for r in truth]
    assert records["message"].to_list() == [r["msg"] for r in truth]


def test_a_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    assert make(10, 4) == make(20000, 4)[:10]
    assert make(9000, 4, fmt="level", app=True) == make(9001, 4, fmt="level", app=True)[:9000]
