"""The C line reader gives exactly the records the regexes give, for every line it reads, and leaves
every other line to them."""

from __future__ import annotations

import gc
import locale
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from generate.generate_helpers import make
from loglens.parsing import access
from loglens.parsing.base import ParseResult, parse_batch
from loglens.parsing.clf_split import Shape, read_strict
from loglens.parsing.regex import RegexParser

try:
    from loglens.parsing import _clf
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("the C reader is not built: make install (it installs gcc)", allow_module_level=True)

REAL = Path(__file__).parents[1] / "data" / "real"
GOOD = '1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326'
GOOD_COMBINED = GOOD + ' "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'


@pytest.fixture(autouse=True, scope="module")
def _reader_on() -> Iterator[None]:
    """These tests compare the reader with the regexes, so it is on whatever LOGLENS_C_READER says."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LOGLENS_C_READER", raising=False)
        yield


def _regex_only(parser: RegexParser) -> RegexParser:
    """The same parser without the C reader in front: the definition the reader must agree with."""
    return RegexParser(parser.name, parser.variants, parser.timezone)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def assert_same_result(with_reader: ParseResult, regexes: ParseResult) -> None:
    assert_frame_equal(_sorted(with_reader.records), _sorted(regexes.records))
    assert with_reader.errors == regexes.errors


moments = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
#: Values of each field at the edges of the strict shapes, strict or not (the regexes decide).
ODD_VALUES = {
    "word": ["", "a b", "é", "-", " "],
    "time": [
        "29/Feb/2024:00:00:00 +0000", "29/Feb/2023:00:00:00 +0000", "29/Feb/1900:00:00:00 +0000",
        "29/Feb/2000:12:00:00 +0000", "31/Apr/2025:10:00:00 +0000", "00/Jan/2025:10:00:00 +0000",
        "01/jan/2025:10:00:00 +0000", "01/JAN/2025:10:00:00 +0000", "01/Jan/2025:24:00:00 +0000",
        "01/Jan/2025:23:59:60 +0000", "01/Jan/2025:10:00:00 +2400", "01/Jan/2025:10:00:00 -0030",
        "01/Jan/2025:10:00:00 +00:00", "01/Jan/2025:10:00:00", "1/Jan/2025:10:00:00 +0000",
        "01/Jan/0999:10:00:00 +0000", "01/Jan/2025:10:00:00 +0000 x", "2025-01-01T10:00:00Z",
        "01/Jan/2025:10:00:00.123 +0000", "31/Dec/1969:23:59:59 +0000", "01/Jan/2025:10:60:00 +0000",
        "01/Jan/2025:10:00:60 +0000", "01/Jan/2025:10:00:00 +0060", "01/Jan/2025:10:00:00 0000",
        "01/Xyz/2025:10:00:00 +0000", "01/Jan/2025 10:00:00 +0000", "01/Jan/2025:10:00:00 +0000]",
    ],
    "method": ["get", "M-SEARCH", "", "GET /", "GÉT"],
    "path": ["//x", "http://h/x", "", "/a b", '/a"b', "*", "///", "/", "/?x", "/#x", "/\tx", "x/y"],
    "protocol": ["HTTP/", "http/1.1", "HTTP/1.1x", "HTTP/1.a", "", "HTTP/1.1 x", "HTTPS/1.1"],
    "status": ["", "20", "2000", "2x0", "-", "٢٠٠"],
    "size": ["", "-5", "5-", "1x", "--", "9" * 18, "9" * 19, "1" + "0" * 24, "٣"],
    "quoted": ['a"b', 'a\\"b', '"', "\\", "-", ""],
    "duration": ["1.", ".5", "1e3", "0.5x", "-1", "1.2.3", "", "0.5 x", "0." + "1" * 40, "1" * 41, "٣"],
}  # fmt: skip

ODD_ISO_TIMES = [
    "2025-01-01 10:00:00Z", "2025-01-01T10:00:00,123Z", "2025-01-01T10:00:00.1234567Z",
    "2025-01-01T10:00:00", "2025-01-01T10:00:00z", "2025-02-29T10:00:00Z", "2024-02-29T10:00:00Z",
    "2100-02-29T10:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01T10:00:60Z", "2025-01-01T10:00:00+24:00",
    "2025-01-01T10:00:00+05", "2025-01-01T10:00:00.Z", "2025-13-01T10:00:00Z", "2025-00-10T10:00:00Z",
    "2025-01-01T10:00Z", "0999-01-01T10:00:00Z", "2025-01-01T10:00:00+05:30", "2025-01-01T10:00:00-0000",
    "2025-1-01T10:00:00Z", "2025-01-01T10:00:00.5+01:00", "2025-01-01T10:00:00Z ",
    "2025-01-01T10:00:00+01:00:00", "2025-01-01T10:00:00+0160", "2025-01-01T10:00:00x01:00",
    "2025-01-01T10:00:00.000000-23:59", "1970-01-01T00:00:00Z", "2025-01-01T10:00:00+01:0",
    "2025-01-01T10:00:00X", "2025-01-01T10:00:00.5x", "2025-01-01T10:00:00+", "2025-01-01T10:00:00.",
]  # fmt: skip


def _iso(moment: datetime, offset: timezone, digits: int, style: str) -> str:
    """``moment`` as an ISO time with ``digits`` fraction digits and a zone written in ``style``."""
    minutes = int(offset.utcoffset(None).total_seconds()) // 60
    sign, (hours, mins) = ("+" if minutes >= 0 else "-"), divmod(abs(minutes), 60)
    zone = {"Z": "Z", "colon": f"{sign}{hours:02d}:{mins:02d}", "plain": f"{sign}{hours:02d}{mins:02d}"}[
        style
    ]
    fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone


#: Valid and odd times of each kind: CLF for common and combined, ISO for iso.
TIMES = {
    "clf": (
        st.builds(lambda d, z: d.replace(tzinfo=z).strftime("%d/%b/%Y:%H:%M:%S %z"), moments, offsets),
        st.one_of(st.sampled_from(ODD_VALUES["time"]), st.text("0123456789/:+- JanFeb]", max_size=28)),
    ),
    "iso": (
        st.builds(_iso, moments, offsets, st.integers(0, 6), st.sampled_from(["Z", "colon", "plain"])),
        st.one_of(st.sampled_from(ODD_ISO_TIMES), st.text("0123456789-:T.+Z ]", max_size=32)),
    ),
}
KIND = {"common": "clf", "combined": "clf", "iso": "iso"}
PARSERS = {"common": access.common, "combined": access.combined, "iso": access.iso}

#: Each field as the strict regexes accept it...
VALID = {
    "word": st.text('ab-[]/"\té0.:', min_size=1, max_size=8),
    "method": st.sampled_from(["GET", "POST", "HEAD", "PROPFIND", "x"]),
    "path": st.text("/ab?#\t%é.-_:", max_size=15).map(lambda t: "/" + t),
    "protocol": st.sampled_from(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/2", "HTTP/3.0.1"]),
    "status": st.integers(0, 999).map(lambda n: f"{n:03d}"),
    "size": st.one_of(st.just("-"), st.integers(0, 10**18 - 1).map(str)),
    "quoted": st.one_of(st.sampled_from(["-", ""]), st.text("ab -\\é/():;", max_size=12)),
    "duration": st.from_regex(r"[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True),
}
#: ... and near the edges.
ODD = {
    "word": st.sampled_from(ODD_VALUES["word"]),
    "method": st.one_of(st.sampled_from(ODD_VALUES["method"]), st.text("GETgx1 ", max_size=5)),
    "path": st.one_of(st.sampled_from(ODD_VALUES["path"]), st.text('/ab?#\t"é %', max_size=15)),
    "protocol": st.sampled_from(ODD_VALUES["protocol"]),
    "status": st.one_of(st.sampled_from(ODD_VALUES["status"]), st.text("0123456789x", max_size=4)),
    "size": st.one_of(st.sampled_from(ODD_VALUES["size"]), st.integers(10**18, 10**25).map(str)),
    "quoted": st.one_of(st.sampled_from(ODD_VALUES["quoted"]), st.text('ab -"\\é', max_size=10)),
    "duration": st.one_of(st.sampled_from(ODD_VALUES["duration"]), st.text("0123456789.", max_size=25)),
}
FIELDS = {"client": "word", "ident": "word", "user": "word", "ts": "time", "method": "method",
          "path": "path", "protocol": "protocol", "status": "status", "bytes": "size",
          "referer": "quoted", "agent": "quoted", "duration": "duration"}  # fmt: skip
SHAPES = ("common", "combined", "duration")
BASE = {"client": "1.2.3.4", "ident": "-", "user": "-", "ts": "10/Oct/2000:13:55:36 -0700", "method": "GET",
        "path": "/a/b?c", "protocol": "HTTP/1.1", "status": "200", "bytes": "12", "referer": "-",
        "agent": "curl/8", "duration": "0.5"}  # fmt: skip


def render(f: dict[str, str], shape: str) -> str:
    """A line of ``shape`` with the fields ``f``."""
    line = (
        f'{f["client"]} {f["ident"]} {f["user"]} [{f["ts"]}] "{f["method"]} {f["path"]} {f["protocol"]}" '
        f"{f['status']} {f['bytes']}"
    )
    if shape != "common":
        line += f' "{f["referer"]}" "{f["agent"]}"'
    if shape == "duration":
        line += f" {f['duration']}"
    return line


@st.composite
def access_lines(draw: st.DrawFn, times: str) -> str:
    """Lines of the common and combined shapes with ``times`` (clf, iso), at most one field drawn from
    the odd values, and sometimes one byte inserted, deleted or replaced anywhere: the edges of what
    the reader may read."""
    broken = draw(st.sampled_from([None, *FIELDS]))
    valid, odd = {**VALID, "time": TIMES[times][0]}, {**ODD, "time": TIMES[times][1]}
    fields = {name: draw(odd[kind] if name == broken else valid[kind]) for name, kind in FIELDS.items()}
    line = render(fields, draw(st.sampled_from(SHAPES)))
    edit = draw(st.sampled_from(["none", "none", "none", "insert", "delete", "replace"]))
    at = draw(st.integers(0, len(line)))
    byte = draw(st.sampled_from([" ", '"', "]", "[", "x", "\t", "é", "0", "/"]))
    if edit != "none":
        line = line[:at] + (byte if edit != "delete" else "") + line[at + (edit != "insert") :]
    return line


BASE_TIMES = {"clf": BASE["ts"], "iso": "2000-10-10T13:55:36.25-07:00"}


def _one_odd_field(times: str) -> list[str]:
    """Every odd value of every field in an otherwise strict line, in every shape."""
    base = {**BASE, "ts": BASE_TIMES[times]}
    odd = {**ODD_VALUES, "time": ODD_VALUES["time"] if times == "clf" else ODD_ISO_TIMES}
    return [
        render({**base, name: value}, shape)
        for name, kind in FIELDS.items()
        for value in odd[kind]
        for shape in SHAPES
    ]


def _one_byte_edits(times: str) -> list[str]:
    """Every strict base line with each byte deleted, or replaced by each byte that delimits fields."""
    lines = []
    for shape in SHAPES:
        line = render({**BASE, "ts": BASE_TIMES[times]}, shape)
        for at in range(len(line)):
            lines.append(line[:at] + line[at + 1 :])
            lines.extend(line[:at] + byte + line[at + 1 :] for byte in ' "x]0+')
    return lines


@pytest.mark.parametrize("fmt", ["common", "combined", "iso"])
@pytest.mark.parametrize("make_lines", [_one_odd_field, _one_byte_edits], ids=["odd-fields", "byte-edits"])
def test_each_odd_field_and_byte_edit_reads_as_the_regexes_read_it(
    fmt: str, make_lines: Callable[[str], list[str]]
) -> None:
    series = pl.Series("line", make_lines(KIND[fmt]), dtype=pl.String)
    parser = PARSERS[fmt]()
    assert_same_result(parse_batch(parser, series), parse_batch(_regex_only(parser), series))


@pytest.mark.parametrize(("fmt", "examples"), [("combined", 400), ("common", 150), ("iso", 300)])
def test_with_the_reader_equals_the_regexes(fmt: str, examples: int) -> None:
    parser = PARSERS[fmt]()

    @settings(max_examples=examples, deadline=None)
    @given(lines=st.lists(access_lines(KIND[fmt]), min_size=1, max_size=30))
    def check(lines: list[str]) -> None:
        series = pl.Series("line", lines, dtype=pl.String)
        assert_same_result(parse_batch(parser, series), parse_batch(_regex_only(parser), series))

    check()


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param((REAL / "apache_combined_10k.log").read_text().splitlines(), id="real-apache-10k"),
        pytest.param(make(20_000, seed=7, fmt="combined"), id="generated"),
        pytest.param(make(20_000, seed=8, fmt="combined", durations=True), id="generated-durations"),
        pytest.param(make(20_000, seed=9, fmt="iso"), id="generated-iso"),
    ],
)
def test_real_and_generated_logs_read_the_same(lines: list[str]) -> None:
    series = pl.Series("line", lines, dtype=pl.String)
    parser = access.iso() if "T" in lines[0].split("[")[1][:11] else access.combined()
    assert_same_result(parse_batch(parser, series), parse_batch(_regex_only(parser), series))


def test_the_reader_reads_strict_lines_and_leaves_the_rest() -> None:
    leaves = [
        GOOD.replace("GET /", "GET //"),  # the section rule for // lives in fields.py
        GOOD.replace("-0700]", "-07:00]"),  # other time shapes: the regexes' timestamp search
        GOOD.replace('"GET', '"get /x \\"'),  # escaped quotes: the lenient regex
        "short",
    ]
    records, left, rows = read_strict(
        pl.Series([GOOD, GOOD_COMBINED, GOOD_COMBINED + " 0.25", *leaves]), Shape(7)
    )
    assert left.to_list() == leaves
    assert (records["line"].to_list(), rows.to_list()) == ([0, 1, 2], [3, 4, 5, 6])
    assert records["bytes"].to_list() == [2326] * 3
    assert records["duration"].to_list() == [None, None, 0.25]
    assert records["referer"].to_list() == [None] + ["http://www.example.com/start.html"] * 2
    assert records["ts"].unique().to_list() == [datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)]
    assert records["section"].unique().to_list() == ["/apache_pb.gif"]


def test_the_shapes_mask_selects_the_shapes_read() -> None:
    lines = pl.Series([GOOD, GOOD_COMBINED, GOOD_COMBINED + " 0.25"])
    assert read_strict(lines, Shape.COMMON)[1].to_list() == lines.to_list()[1:]
    assert read_strict(lines, Shape.COMBINED)[1].to_list() == [GOOD, GOOD_COMBINED + " 0.25"]


def test_records_outlive_the_lines_they_point_into() -> None:
    agents = [f"agent number {i} with a name longer than twelve bytes" for i in range(1000)]
    lines = pl.Series([GOOD + f' "-" "{agent}"' for agent in agents])
    records, _, _ = read_strict(lines, Shape.COMBINED)
    del lines
    gc.collect()
    assert records["agent"].to_list() == agents


def test_sliced_chunked_and_null_lines() -> None:
    first = pl.Series([GOOD, "x" * 40, GOOD_COMBINED])
    second = pl.Series([None, GOOD], dtype=pl.String)
    chunked = pl.concat([first, second], rechunk=False)
    assert chunked.n_chunks() == 2
    records, left, rows = read_strict(chunked, Shape(7))
    assert records["line"].to_list() == [0, 2, 4]
    assert (left.to_list(), rows.to_list()) == (["x" * 40, None], [1, 3])
    records, left, rows = read_strict(first.slice(1, 2), Shape(7))
    assert (records["line"].to_list(), left.to_list(), rows.to_list()) == ([1], ["x" * 40], [0])


def test_the_module_refuses_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="String"):
        _clf.parse(pl.Series([1, 2]).__arrow_c_stream__(), 7)
    stream = pl.Series([GOOD]).__arrow_c_stream__()
    _clf.parse(stream, 7)
    with pytest.raises(ValueError, match="already consumed"):
        _clf.parse(stream, 7)


@pytest.fixture
def german_numbers() -> Iterator[None]:
    """The process in de_DE.UTF-8, where the decimal separator is a comma (as a host app may set it)."""
    previous = locale.setlocale(locale.LC_ALL)
    try:
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    except locale.Error:
        message = (
            "locale de_DE.UTF-8 missing: apt-get install locales, enable it in /etc/locale.gen, locale-gen"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, previous)


def test_durations_read_the_same_in_every_locale(german_numbers: None) -> None:
    assert locale.localeconv()["decimal_point"] == ","
    lines = pl.Series([f"{GOOD_COMBINED} {d}" for d in ("0.25", "1.5", "12.000125", "7")])
    records, left, _ = read_strict(lines, Shape.COMBINED_DURATION)
    assert left.is_empty()
    assert records["duration"].to_list() == [0.25, 1.5, 12.000125, 7.0]
