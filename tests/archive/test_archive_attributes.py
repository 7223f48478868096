"""Lines' attributes in the archive: a member's header comment that every gzip reader skips, and
:func:`members` reads back; segments written before attributes existed read the same way."""

from __future__ import annotations

import gzip
import io
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglens.archive.attributes import attributes_of, members
from loglens.archive.segments import encode_member

line = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=30)
attribute = st.none() | st.fixed_dictionaries(
    {"labels": st.dictionaries(st.sampled_from(["app", "env", "ünï"]), line, max_size=2)},
    optional={"metadata": st.dictionaries(st.sampled_from(["trace_id", "user"]), line, min_size=1)},
)
part = st.lists(st.tuples(line, attribute), min_size=1, max_size=6)
Part = list[tuple[str, dict[str, Any] | None]]


def _member(parts: list[Part], with_attributes: list[bool]) -> bytes:
    series = [pl.Series("line", [text for text, _ in p], dtype=pl.String) for p in parts]
    attributes = [
        pl.Series("attributes", [None if a is None else orjson.dumps(a).decode() for _, a in p])
        if keep else None
        for p, keep in zip(parts, with_attributes, strict=True)
    ]  # fmt: skip
    member, _ = encode_member(series, 1, attributes)
    return member


@given(st.lists(st.tuples(part, st.booleans()), min_size=1, max_size=4), st.integers(1, 3))
def test_members_give_back_each_line_and_its_attributes_and_gzip_reads_the_lines_alone(
    sent: list[tuple[Part, bool]], count: int
) -> None:
    parts = [p for p, _ in sent]
    keeps = [keep for _, keep in sent]
    blob = _member(parts, keeps) * count  # members concatenate
    lines = [text for p in parts for text, _ in p]
    expected = [a if keep else None for p, keep in sent for _, a in p]
    assert gzip.decompress(blob).decode().split("\n")[:-1] == lines * count
    read = list(members(io.BytesIO(blob + b"\x00" * 4)))  # zero padding may follow the last
    assert len(read) == count
    for data, comment in read:
        assert data.decode().split("\n")[:-1] == lines
        kept = attributes_of(comment)
        assert [kept.get(at) for at in range(len(lines))] == expected


def test_a_member_without_attributes_is_the_plain_gzip_of_old_segments() -> None:
    member, _ = encode_member([pl.Series("line", ["a", "b"])], 1, [None])
    old = gzip.compress(b"x\n")  # what a segment written before attributes holds, FNAME and all
    read = list(members(io.BytesIO(member + old)))
    assert read == [(b"a\nb\n", None), (b"x\n", None)]
    assert attributes_of(b"a comment of another tool") == {}


@pytest.mark.parametrize("cut", [3, 12, -9, -3])
def test_a_truncated_or_damaged_segment_is_a_value_error(cut: int) -> None:
    kept = pl.Series("attributes", ['{"labels":{"a":"b"}}'])
    member, _ = encode_member([pl.Series("line", ["a"])], 1, [kept])
    with pytest.raises(ValueError, match=r"ends inside|CRC"):
        list(members(io.BytesIO(member[:cut])))
    damaged = member[:-8] + b"\x00" * 8
    with pytest.raises(ValueError, match="CRC"):
        list(members(io.BytesIO(damaged)))
