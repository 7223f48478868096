"""The attributes of archived lines (Loki's stream labels and structured metadata), kept in the segments.

A gzip member whose lines have attributes carries them in its header's comment (RFC 1952's FCOMMENT):
``loglens-attributes:`` then, in base64, the zlib-compressed JSON list
``[[index, {"labels": {...}, "metadata": {...}}], ...]``, ``index`` counting the member's lines from 0.
Every gzip reader skips a comment, so such a segment still reads as its lines alone (``zcat``,
``loglens archive cat``, ``replay``), and a segment written before attributes existed has members
without one: both read the same way. :func:`members` reads the
members one by one, with their comments, for ``loglens archive cat --json``.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import orjson
import polars as pl
from isal import isal_zlib

#: How a comment that holds attributes begins.
PREFIX = b"loglens-attributes:"
_READ = 1024 * 1024
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16


def comment_of(parts: Sequence[pl.Series], attributes: Sequence[pl.Series | None]) -> bytes | None:
    """The comment of a member whose lines are those of ``parts``, in order (None: no attributes).

    ``attributes`` holds, per part, its lines' attributes (JSON text or null per line), or None. polars
    writes the ``[index, attributes]`` pairs without a Python object per line, and deflate shrinks the
    labels that every line of a stream repeats.
    """
    pairs: list[pl.Series] = []
    offset = 0
    for part, kept in zip(parts, attributes, strict=True):
        if kept is not None:
            numbered = pl.DataFrame({"at": pl.int_range(offset, offset + len(part), eager=True), "a": kept})
            pairs.append(numbered.drop_nulls("a").select(pl.format("[{},{}]", "at", "a")).to_series())
        offset += len(part)
    if not pairs:
        return None
    listed = b"[" + ",".join(pl.concat(pairs).to_list()).encode() + b"]"
    return PREFIX + base64.b64encode(isal_zlib.compress(listed, 1))


def member_with_comment(data: bytes | memoryview, level: int, comment: bytes) -> bytes:
    """``data`` as one gzip member whose header carries ``comment`` (ASCII, no NUL)."""
    header = b"\x1f\x8b\x08" + bytes([_FCOMMENT]) + b"\x00\x00\x00\x00\x00\xff" + comment + b"\x00"
    trailer = struct.pack("<II", isal_zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + isal_zlib.compress(data, level, -15) + trailer


def attributes_of(comment: bytes | None) -> dict[int, dict[str, Any]]:
    """The attributes a member's comment holds, by line index (none for another comment, or a damaged one)."""
    if not comment or not comment.startswith(PREFIX):
        return {}
    try:
        pairs = orjson.loads(zlib.decompress(base64.b64decode(comment[len(PREFIX) :], validate=True)))
        return {int(at): item for at, item in pairs if isinstance(item, dict)}
    except (orjson.JSONDecodeError, zlib.error, binascii.Error, TypeError, ValueError):
        return {}


class _Input:
    """The compressed bytes of a segment, read a chunk at a time."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.buffer = b""

    def take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.raw.read(_READ)
            if not chunk:
                raise ValueError("the segment ends inside a gzip member")
            self.buffer += chunk
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def through_nul(self) -> bytes:
        while b"\x00" not in self.buffer:
            chunk = self.raw.read(_READ)
            if not chunk:
                raise ValueError("the segment ends inside a gzip header")
            self.buffer += chunk
        text, _, self.buffer = self.buffer.partition(b"\x00")
        return text

    def at_end(self) -> bool:
        if not self.buffer:
            self.buffer = self.raw.read(_READ)
        return not self.buffer.strip(b"\x00")  # (zero padding after the last member is allowed)


def members(raw: BinaryIO) -> Iterator[tuple[bytes, bytes | None]]:
    """Each gzip member of a segment: its uncompressed bytes, and its header's comment (or None).

    Raises:
        ValueError: not gzip, truncated, or a member whose CRC does not match.
    """
    source = _Input(raw)
    while not source.at_end():
        header = source.take(10)
        if header[:3] != b"\x1f\x8b\x08":
            raise ValueError("not a gzip member")
        flags, comment = header[3], None
        if flags & _FEXTRA:
            source.take(int.from_bytes(source.take(2), "little"))
        if flags & _FNAME:
            source.through_nul()
        if flags & _FCOMMENT:
            comment = source.through_nul()
        if flags & _FHCRC:
            source.take(2)
        inflate = zlib.decompressobj(-15)
        parts = [inflate.decompress(source.buffer)]
        while not inflate.eof:
            chunk = source.raw.read(_READ)
            if not chunk:
                raise ValueError("the segment ends inside a gzip member")
            parts.append(inflate.decompress(chunk))
        source.buffer = inflate.unused_data
        data = b"".join(parts)
        crc, size = struct.unpack("<II", source.take(8))
        if crc != zlib.crc32(data) or size != len(data) & 0xFFFFFFFF:
            raise ValueError("a gzip member's CRC or length does not match its data")
        yield data, comment
