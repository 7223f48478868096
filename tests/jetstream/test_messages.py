"""The batch messages agents publish: what is encoded decodes to the same lines; nothing else decodes."""

from __future__ import annotations

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglens.jetstream.messages import MalformedMessage, batch_id, decode, encode
from loglens.records import Span

#: Lines as a splitter gives them: any text without a newline.
LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=300)


@given(
    lines=st.lists(LINE, min_size=1, max_size=60),
    source=st.text(min_size=1, max_size=40),
    host=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
    start=st.integers(0, 2**40),
    max_bytes=st.integers(1, 4096),
)
def test_encoded_batches_decode_to_the_same_lines_in_order(
    lines: list[str], source: str, host: str, start: int, max_bytes: int
) -> None:
    span = Span("64769:1234", start, start + 10_000)
    messages = encode(host, source, span, pl.Series("line", lines, dtype=pl.String), max_bytes)
    decoded = [decode(payload) for _, payload, _ in messages]
    assert [line for batch in decoded for line in batch.lines.to_list()] == lines
    assert [message_id for message_id, _, _ in messages] == [batch.id for batch in decoded]
    assert len({batch.id for batch in decoded}) == len(decoded)
    assert [batch.part for batch in decoded] == list(range(len(decoded)))
    assert {batch.parts for batch in decoded} == {len(decoded)}
    assert all(batch.host == host and batch.span == span for batch in decoded)
    assert [count for _, _, count in messages] == [batch.lines.len() for batch in decoded]
    for _, payload, count in messages:
        if count > 1:  # a message of several lines keeps to the limit (one longer line is alone)
            assert len(payload) - payload.index(b"\n") - 1 <= max_bytes


def test_the_same_lines_read_again_from_the_same_place_get_the_same_ids() -> None:
    lines = pl.Series("line", ["a", "b", "c"])
    first = encode("web1", "/var/log/a.log", Span("1:2", 0, 6), lines, 1024)
    again = encode("web1", "/var/log/a.log", Span("1:2", 0, 6), lines, 1024)
    elsewhere = encode("web1", "/var/log/a.log", Span("1:2", 6, 12), lines, 1024)
    assert [m[0] for m in first] == [m[0] for m in again]
    assert first[0][0] != elsewhere[0][0]
    assert batch_id("web1", "s", Span("1:2", 0, 6), 0) != batch_id("web2", "s", Span("1:2", 0, 6), 0)


@given(st.binary(max_size=2000))
def test_any_bytes_decode_or_raise_malformed_only(payload: bytes) -> None:
    try:
        batch = decode(payload)
    except MalformedMessage:
        return
    assert batch.lines.len() >= 0


def _header(**changes: object) -> dict[str, object]:
    header: dict[str, object] = {
        "v": 1, "id": "abc", "host": "h", "source": "s", "file": "1:2", "start": 0, "end": 4, "part": 0,
        "parts": 1, "count": 2,
    }  # fmt: skip
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"no header at all", "no header line"),
        (b"[1, 2]\na\nb", "not a JSON object"),
        (b"{not json\na", "not JSON"),
        (orjson.dumps(_header(v=2)) + b"\na\nb", "version 2"),
        (orjson.dumps(_header(id=None)) + b"\na\nb", "id is not"),
        (orjson.dumps(_header(start=-1)) + b"\na\nb", "start is not"),
        (orjson.dumps(_header(count=True)) + b"\na\nb", "count is not"),
        (orjson.dumps(_header(part=1)) + b"\na\nb", "part is not below parts"),
        (orjson.dumps(_header(count=3)) + b"\na\nb", "count is 3 but 2 lines"),
        (orjson.dumps(_header(count=0)) + b"\na", "count is 0 but lines follow"),
        (orjson.dumps(_header()) + b"\n\xff\xfe\nb", "not UTF-8"),
    ],
)
def test_malformed_messages_are_named(payload: bytes, problem: str) -> None:
    with pytest.raises(MalformedMessage, match=problem):
        decode(payload)
