"""Property tests: no input crashes a parser, and generated valid lines round-trip their fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.parsing import FORMATS, parse_lines
from loglens.parsing.levels import ALIASES

any_line = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), max_size=300)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(any_line, min_size=1, max_size=20), fmt=st.sampled_from(FORMATS))
def test_no_input_crashes_a_parser_and_every_line_is_accounted(lines: list[str], fmt: str) -> None:
    result = parse_lines(lines, fmt)
    assert result.records.height + result.rejected.height == len(lines)


ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda p: ":".join(f"{x:x}" for x in p))
segment = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=1, max_size=12)
paths = st.lists(segment, min_size=0, max_size=4).map(lambda s: "/" + "/".join(s))
queries = st.one_of(st.just(""), st.text("abcxyz=&0123", min_size=1, max_size=10).map(lambda q: "?" + q))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=0)
)
offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
agents = st.text(st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters='"\\'), max_size=40)


def _clf(moment: datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S %z")


@settings(max_examples=200, deadline=None)
@given(
    client=st.one_of(ipv4, ipv6),
    user=st.one_of(st.just("-"), segment),
    moment=moments,
    zone=offsets,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
    path=paths,
    query=queries,
    status=st.integers(100, 599),
    size=st.one_of(st.just("-"), st.integers(0, 10**12).map(str)),
    referer=st.one_of(st.just("-"), paths.map(lambda p: "https://example.org" + p)),
    agent=agents.filter(lambda a: a != "-"),
    duration=st.one_of(st.none(), st.integers(0, 10**6).map(lambda ms: ms / 1000)),
)
def test_combined_line_round_trips(
    client: str,
    user: str,
    moment: datetime,
    zone: timezone,
    method: str,
    path: str,
    query: str,
    status: int,
    size: str,
    referer: str,
    agent: str,
    duration: float | None,
) -> None:
    local = moment.replace(tzinfo=zone)
    request = f"{method} {path}{query} HTTP/1.1"
    line = f'{client} - {user} [{_clf(local)}] "{request}" {status} {size} "{referer}" "{agent}"'
    if duration is not None:
        line += f" {duration:.3f}"
    result = parse_lines([line], "combined")
    assert result.rejected.is_empty(), line
    row = result.records.row(0, named=True)
    assert row["client"] == client
    assert row["user"] == (None if user == "-" else user)
    assert row["ts"] == local.astimezone(UTC)
    assert (row["method"], row["path"], row["protocol"]) == (method, path + query, "HTTP/1.1")
    assert row["section"] == "/" + path.lstrip("/").split("/")[0]
    assert row["status"] == status
    assert row["bytes"] == (0 if size == "-" else int(size))
    assert row["referer"] == (None if referer == "-" else referer)
    assert row["agent"] == agent
    assert row["duration"] == (None if duration is None else round(duration, 3))


@settings(max_examples=150, deadline=None)
@given(
    moment=moments,
    millis=st.integers(0, 999),
    path=paths,
    status=st.integers(100, 599),
    size=st.integers(0, 10**9),
)
def test_iso_line_round_trips(moment: datetime, millis: int, path: str, status: int, size: int) -> None:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
    line = f'37.201.9.144 - user-512 [{stamp}] "PUT {path} HTTP/1.1" {status} {size}'
    row = parse_lines([line], "iso").records.row(0, named=True)
    assert row["ts"] == moment.replace(tzinfo=UTC) + timedelta(milliseconds=millis)
    assert (row["path"], row["status"], row["bytes"]) == (path, status, size)


@settings(max_examples=150, deadline=None)
@given(
    moment=moments,
    word=st.sampled_from(sorted(ALIASES)),
    upper=st.booleans(),
    message=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool),
)
def test_level_line_round_trips(moment: datetime, word: str, upper: bool, message: str) -> None:
    line = f"{word if upper else word.lower()} {moment.strftime('%Y-%m-%dT%H:%M:%SZ')} {message}"
    row = parse_lines([line], "level").records.row(0, named=True)
    assert row["level"] == ALIASES[word]
    assert row["ts"] == moment.replace(tzinfo=UTC)
    assert row["message"] == message


@settings(max_examples=150, deadline=None)
@given(
    moment=moments,
    level=st.sampled_from(["debug", "INFO", "Warn", "error", "fatal"]),
    message=st.text(max_size=50),
    service=st.text(min_size=1, max_size=10),
)
def test_json_record_round_trips(moment: datetime, level: str, message: str, service: str) -> None:
    line = orjson.dumps(
        {"ts": moment.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "level": level, "msg": message, "service": service}
    ).decode()
    row = parse_lines([line], "json").records.row(0, named=True)
    assert row["ts"] == moment.replace(tzinfo=UTC)
    assert row["level"] == ALIASES[level.upper()]
    assert (row["message"], row["service"]) == (message, service)


targets = st.tuples(
    st.sampled_from(["", "http://example.org", "https://h:8080"]),
    st.sampled_from(["", "/", "//", "///"]),
    st.text("ab:.*-", max_size=5),
    st.text("ab/?#:.*\t-", max_size=10),
).map("".join)


def _expected_section(target: str) -> str:
    """The section rule, written again independently: scheme://host dropped, then leading slashes, then
    the first segment up to / ? # or whitespace."""
    absolute = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*", target)
    rest = target[absolute.end() :] if absolute else target
    return "/" + re.match(r"/*([^/?# \t]*)", rest).group(1)  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(targets, min_size=1, max_size=8))
def test_section_of_any_request_target(batch: list[str]) -> None:
    """The section captured inside the regex, and the fallbacks beside it, agree with the rule."""
    lines = [f'1.2.3.4 - - [09/May/2018:16:00:39 +0000] "GET {t} HTTP/1.1" 200 1 "-" "a"' for t in batch]
    result = parse_lines(lines, "combined")
    assert result.rejected.is_empty()
    # Records are not in line order (lines the C reader leaves come after the ones it reads).
    got = sorted(result.records.select("path", "section").iter_rows())
    assert got == sorted((t, _expected_section(t)) for t in batch)
