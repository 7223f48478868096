"""Bulk bodies in every shape give back exactly the lines they carry; bad ones are refused by name."""

from __future__ import annotations

import gzip
import zlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglens.ingest.bodies import BadBody, collector_line, decompress, read_lines

LIMIT = 64 * 1024
# lines as a file holds them: no newline inside, and no \r at the end (it would be a CRLF ending)
line = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=80).filter(
    lambda text: not text.endswith("\r")
)
lines = st.lists(line, min_size=1, max_size=30)


@given(lines)
def test_text_plain_gives_back_its_lines(sent: list[str]) -> None:
    body = "\n".join(sent).encode() + b"\n"
    assert read_lines(body, "text/plain; charset=utf-8", LIMIT).lines == sent


@given(lines, st.sampled_from(["message", "log", "msg", None]))
def test_ndjson_of_strings_or_objects_gives_back_its_lines(sent: list[str], key: str | None) -> None:
    values = [text if key is None else {key: text, "other": 1} for text in sent]
    body = b"\n".join(orjson.dumps(value) for value in values) + b"\n"
    read = read_lines(body, "application/x-ndjson", LIMIT)
    assert (read.lines, read.rejected) == (sent, 0)


@given(lines, st.sampled_from(["message", "log", "msg", None]), st.booleans())
def test_a_json_array_gives_back_its_lines_gzip_or_not(
    sent: list[str], key: str | None, zipped: bool
) -> None:
    values = [text if key is None else {"date": 1.5, key: text} for text in sent]
    body = orjson.dumps(values)
    if zipped:
        body = decompress(gzip.compress(body), "gzip", LIMIT)
    assert read_lines(body, "application/json", LIMIT).lines == sent


def test_an_item_that_is_no_line_is_rejected_by_number_and_the_rest_taken() -> None:
    body = orjson.dumps(["a", {"level": "x"}, 7, {"message": 8, "log": "b"}, None])
    read = read_lines(body, "application/json", LIMIT)
    assert read.lines == ["a", "b"]
    assert read.rejected == 3
    assert read.errors == [
        "item 1: an object with no string message, log or msg, not a line",
        "item 2: int, not a line",
        "item 4: NoneType, not a line",
    ]


def test_a_message_holding_newlines_becomes_lines_as_a_file_would_hold_them() -> None:
    body = orjson.dumps([{"log": "Traceback:\r\n  File x\n"}])
    assert read_lines(body, "application/json", LIMIT).lines == ["Traceback:", "  File x", ""]


def test_a_line_over_the_limit_is_rejected_not_cut() -> None:
    read = read_lines(b"short\n" + b"x" * 300 + b"\nafter\n", "text/plain", 256)
    assert read.lines == ["short", "after"]
    assert read.errors == ["a line: longer than 256 bytes (parse.max_line_bytes)"]


@pytest.mark.parametrize(
    ("body", "media_type", "status", "message"),
    [
        (b"[1,", "application/json", 400, "the body is not valid JSON"),
        (b"a", "image/png", 415, "content type 'image/png' is not read here"),
    ],
)
def test_a_malformed_body_is_refused(body: bytes, media_type: str, status: int, message: str) -> None:
    with pytest.raises(BadBody, match=message) as caught:
        read_lines(body, media_type, LIMIT)
    assert caught.value.status == status


def test_gzip_is_bounded_once_unzipped_and_checked() -> None:
    bomb = gzip.compress(b"\n" * (10 * LIMIT))
    with pytest.raises(BadBody, match="once unzipped") as caught:
        decompress(bomb, "gzip", LIMIT)
    assert caught.value.status == 413
    with pytest.raises(BadBody, match="not valid gzip"):
        decompress(b"\x1f\x8bnot really", "", LIMIT)
    with pytest.raises(BadBody, match="cut short"):
        decompress(gzip.compress(b"abc" * 100)[:-12], "gzip", LIMIT)
    with pytest.raises(BadBody, match="Content-Encoding 'br'") as unsupported:
        decompress(b"x", "br", LIMIT)
    assert unsupported.value.status == 415
    assert decompress(zlib.compress(b"plain"), "", LIMIT) == zlib.compress(b"plain")  # not gzip: as sent


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b'["x"]', "expected an object"),
        (b"{}", '"message" is missing or empty'),
        (b'{"message": "  "}', '"message" is missing or empty'),
        (b'{"message": 5}', '"message" is missing or empty'),
    ],
)
def test_the_collector_body_must_carry_a_message(body: bytes, message: str) -> None:
    with pytest.raises(BadBody, match=message):
        collector_line(body)


def test_the_collector_body_gives_its_message() -> None:
    assert collector_line(b'{"message": "GET / 200", "extra": true}') == "GET / 200"


def test_json_lines_sent_as_application_json_are_read_as_json_lines() -> None:
    """Fluent Bit's json_lines format said application/json before 3.0 (fluent/fluent-bit#8715)."""
    body = b'{"date": 1.5, "log": "one"}\n{"date": 1.6, "log": "two"}\n'
    assert read_lines(body, "application/json", LIMIT).lines == ["one", "two"]
