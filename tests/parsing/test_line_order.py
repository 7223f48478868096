"""Records come out in line order, whichever parse path read each line, and each carries its line's index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import orjson
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.parsing import base, build_parser
from loglens.parsing.base import Parser, parse_batch
from loglens.pipeline import LinePipeline

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)
paths = st.text("abcxyz/?=0", max_size=12).map(lambda p: "/" + p)
statuses = st.integers(100, 599)


def _clf(moment: datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


#: The C reader reads this shape.
strict_combined = st.builds(
    lambda m, p, s: f'10.0.0.1 - - [{_clf(m)}] "GET {p} HTTP/1.1" {s} 12 "-" "agent"',
    moments,
    paths,
    statuses,
)
#: No protocol: only the lenient regex reads it.
common_without_protocol = st.builds(
    lambda m, p, s: f'10.0.0.2 - bob [{_clf(m)}] "GET {p}" {s} -', moments, paths, statuses
)
#: A valid-looking shape with a date that does not exist: rejected as ``bad_timestamp``.
bad_time = st.builds(lambda p: f'10.0.0.3 - - [31/Feb/2024:10:00:00 +0000] "GET {p} HTTP/1.1" 200 1', paths)
json_line = st.builds(
    lambda m, p, s: orjson.dumps({"ts": m.isoformat(), "path": p, "status": s}).decode(),
    moments,
    paths,
    statuses,
)
level_line = st.builds(
    lambda m, w: f"{w} {m.strftime('%Y-%m-%dT%H:%M:%SZ')} something happened",
    moments,
    st.sampled_from(["ERROR", "info"]),
)
garbage = st.one_of(
    st.just(""),
    st.just("{not json"),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30),
)
mixed_lines = st.lists(
    st.one_of(strict_combined, common_without_protocol, bad_time, json_line, level_line, garbage), max_size=40
)


def _without_line(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "line"}


@settings(max_examples=150, deadline=None)
@given(
    lines=mixed_lines,
    fmt=st.sampled_from(["auto", "combined", "json", "level"]),
    slice_lines=st.integers(1, 50),
)
def test_records_are_in_line_order_and_read_as_each_line_alone(
    lines: list[str], fmt: str, slice_lines: int
) -> None:
    parser: Parser = build_parser(fmt)
    series = pl.Series("line", lines, dtype=pl.String)
    with mock.patch.object(base, "MAX_PARSE_LINES", slice_lines):
        result = parse_batch(parser, series)
    numbers = result.records["line"].to_list()
    assert numbers == sorted(set(numbers))
    rejected = result.rejected["line"].to_list()
    assert sorted(numbers + rejected) == list(range(len(lines)))
    for row in result.records.iter_rows(named=True):
        alone = parse_batch(parser, series.slice(row["line"], 1))  # auto keeps the format it chose
        assert [_without_line(r) for r in alone.records.iter_rows(named=True)] == [_without_line(row)]
    for number, text, reason in result.rejected.iter_rows():
        assert text == lines[number]
        assert parse_batch(parser, series.slice(number, 1)).errors == {reason: 1}


def test_raw_holds_each_records_line() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    lines = []
    for i in range(20):
        moment = start + timedelta(seconds=i)
        if i % 2:
            lines.append(f'10.0.0.1 - - [{_clf(moment)}] "GET /c{i} HTTP/1.1" 200 12 "-" "agent"')
        else:
            lines.append(f'10.0.0.2 - - [{_clf(moment)}] "GET /r{i}" 200 12')
    lines[4:4] = ["", "x" * 300, '{"ts": 0, "path": "/j"}', "garbage"]
    pipeline = LinePipeline("test", build_parser("auto"), max_line_bytes=256)
    batch = pipeline.parse_chunk(pipeline.splitter.feed("\n".join(lines).encode() + b"\n"))
    assert batch.raw.to_list() == [line for line in lines if len(line) <= 256]
    assert batch.records["line"].is_sorted()
    for number, path in batch.records.select("line", "path").iter_rows():
        assert f'"GET {path}' in batch.raw[number] or f'"path": "{path}"' in batch.raw[number]
    # lines written in time order come out in time order, whichever path read them
    access = batch.records.filter(pl.col("path") != "/j")
    assert access["ts"].to_list() == [start + timedelta(seconds=i) for i in range(20)]
