"""LineSplitter: any chunking gives the same lines; long lines are skipped without being held."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.parsing.lines import FIRST_READ_BYTES, MAX_CHUNK_LINES, LineSplitter

MAX = 300


def _split_all(data: bytes, cuts: list[int]) -> tuple[list[str], int, int]:
    splitter = LineSplitter(max_line_bytes=MAX)
    lines: list[str] = []
    too_long = consumed = 0
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in pairwise(bounds):
        chunk = splitter.feed(data[start:end])
        lines += chunk.lines.to_list()
        too_long += chunk.too_long
        consumed += chunk.consumed
        assert splitter.pending_bytes <= MAX
    last = splitter.finish()
    return lines + last.lines.to_list(), too_long + last.too_long, consumed + last.consumed


def _expected(data: bytes) -> tuple[list[str], int]:
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    kept = [p.decode("utf-8", "replace").removesuffix("\r") for p in parts if len(p) <= MAX]
    return kept, sum(1 for p in parts if len(p) > MAX)


line_bytes = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(MAX - 2, MAX + 200).map(lambda n: b"x" * n),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line_bytes.map(lambda b: b.replace(b"\n", b" ")), max_size=30),
    trailing_newline=st.booleans(),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_chunking_yields_the_lines_of_the_whole(
    lines: list[bytes], trailing_newline: bool, cuts: list[int]
) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    got, too_long, consumed = _split_all(data, cuts)
    want, want_long = _expected(data)
    assert too_long == want_long
    assert got == want
    assert consumed == len(data)


def test_partial_line_waits_for_its_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"first\nsec").lines.to_list() == ["first"]
    assert splitter.pending_bytes == 3
    chunk = splitter.feed(b"ond\n")
    assert chunk.lines.to_list() == ["second"]
    assert chunk.consumed == 7
    assert splitter.pending_bytes == 0


def test_fifty_megabyte_line_is_skipped_without_being_held() -> None:
    splitter = LineSplitter(max_line_bytes=64 * 1024)
    block = b"y" * (1024 * 1024)
    too_long = 0
    for _ in range(50):
        too_long += splitter.feed(block).too_long
        assert splitter.pending_bytes <= 64 * 1024
    chunk = splitter.feed(b"tail of the long line\nnext line\n")
    assert too_long + chunk.too_long == 1
    assert chunk.lines.to_list() == ["next line"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    chunk = LineSplitter().feed(b"ok\n\xff\xfe bad \xc3\n")
    assert chunk.lines.to_list() == ["ok", "\ufffd\ufffd bad \ufffd"]


def test_crlf_line_endings_are_stripped() -> None:
    assert LineSplitter().feed(b"a\r\nb\r\n").lines.to_list() == ["a", "b"]


#: Leading bytes of compressed streams: polars' line reader sniffs them, loglens must not.
MAGIC = [
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
    b"\x78\x9c",
    b"\x78\x01",
    b"\x78\xda",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"PK\x03\x04",
]


@settings(max_examples=200, deadline=None)
@given(
    magic=st.sampled_from(MAGIC),
    rest=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=5),
    cuts=st.lists(st.integers(0, 200), max_size=4),
)
def test_bytes_that_look_compressed_are_lines_like_any_other(
    magic: bytes, rest: list[bytes], cuts: list[int]
) -> None:
    data = b"\n".join(magic + part for part in rest) + b"\n"
    got, too_long, consumed = _split_all(data, cuts)
    assert (got, too_long) == _expected(data)
    assert consumed == len(data)


def test_input_of_short_lines_is_read_in_smaller_pieces() -> None:
    """A chunk's memory goes with its lines as well as its bytes: after a chunk of very short lines
    the next read is sized to hold about MAX_CHUNK_LINES of them; after ordinary lines, the default."""
    default = 2 * 1024 * 1024
    splitter = LineSplitter()
    assert splitter.read_size(default) == FIRST_READ_BYTES
    splitter.feed(b"a\n" * (default // 2))  # a million one-byte lines
    assert splitter.read_size(default) == 2 * MAX_CHUNK_LINES
    splitter.feed(b"x" * 199 + b"\n")
    assert splitter.read_size(default) == default
    splitter.feed(b"\n" * default)  # lines as short as they come: a byte each
    assert splitter.read_size(default) == MAX_CHUNK_LINES
