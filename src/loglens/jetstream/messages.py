"""Batches of raw lines as JetStream messages: encoded by agents, decoded (and checked) by processors.

A message is one JSON line of what the lines are (``v``, ``id``, ``host``, ``source``, ``file``,
``start``, ``end``, ``part``, ``parts``, ``count``), a newline, then the lines joined by newlines, in
UTF-8. ``id`` names the message: the agent publishes it as ``Nats-Msg-Id`` too, so JetStream's own
duplicate window drops a batch published twice, and processors keep the ids they applied.

The id is a digest of the host, the source, the file's identity and the byte range read (and the part):
the same lines read again from the same position get the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
import polars as pl

from loglens.records import Span

#: The version of the encoding this module writes and reads.
VERSION = 1
#: What a message's header may hold at most (a longer one is refused before it is parsed).
MAX_HEADER_BYTES = 16 * 1024


class MalformedMessage(ValueError):
    """A message that is not a batch of this encoding; its text names what is wrong."""


@dataclass(frozen=True)
class LineBatch:
    """One message's lines and where they come from."""

    id: str
    host: str
    source: str
    span: Span
    part: int
    parts: int
    lines: pl.Series


def batch_id(host: str, source: str, span: Span, part: int) -> str:
    """The id of part ``part`` of the lines ``span`` of ``source`` on ``host``."""
    key = "\x00".join((host, source, span.file, str(span.start), str(span.end), str(part)))
    return hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


def encode(
    host: str, source: str, span: Span, lines: pl.Series, max_bytes: int
) -> list[tuple[str, bytes, int]]:
    """The messages (id, payload, lines) of ``lines``, each payload at most about ``max_bytes`` (a single line
    longer than that makes a message of its own)."""
    sizes = lines.str.len_bytes().fill_null(0) + 1
    ends = sizes.cum_sum()
    cuts: list[tuple[int, int]] = []
    first, taken = 0, 0
    for index, end in enumerate(ends.to_list()):
        if index > first and end - taken > max_bytes:
            cuts.append((first, index))
            first, taken = index, ends[index - 1]
    cuts.append((first, lines.len()))
    messages = []
    for part, (begin, stop) in enumerate(cuts):
        chunk = lines.slice(begin, stop - begin)
        message_id = batch_id(host, source, span, part)
        header = {
            "v": VERSION, "id": message_id, "host": host, "source": _text(source), "file": span.file,
            "start": span.start, "end": span.end, "part": part, "parts": len(cuts), "count": chunk.len(),
        }  # fmt: skip
        body = chunk.str.join("\n").item() if chunk.len() else ""
        messages.append((message_id, orjson.dumps(header) + b"\n" + body.encode("utf-8"), chunk.len()))
    return messages


def decode(payload: bytes) -> LineBatch:
    """The batch of one message.

    Raises:
        MalformedMessage: not this encoding, a field missing or of the wrong type, a count that does not
            match its lines, text that is not UTF-8.
    """
    newline = payload.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if newline < 0:
        raise MalformedMessage("no header line")
    try:
        header = orjson.loads(payload[:newline])
    except orjson.JSONDecodeError:
        raise MalformedMessage("the header is not JSON") from None
    if not isinstance(header, dict):
        raise MalformedMessage("the header is not a JSON object")
    if header.get("v") != VERSION:
        raise MalformedMessage(f"version {header.get('v')!r} is not {VERSION}")
    text: dict[str, str] = {}
    for name in ("id", "host", "source", "file"):
        value = header.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedMessage(f"{name} is not a non-empty string")
        text[name] = value
    numbers: dict[str, int] = {}
    for name in ("start", "end", "part", "parts", "count"):
        value = header.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MalformedMessage(f"{name} is not a whole number >= 0")
        numbers[name] = value
    if numbers["part"] >= numbers["parts"]:
        raise MalformedMessage("part is not below parts")
    try:
        body = payload[newline + 1 :].decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("the lines are not UTF-8") from None
    count = numbers["count"]
    if count == 0 and body:
        raise MalformedMessage("count is 0 but lines follow")
    lines = pl.Series("line", [body] if count else [], dtype=pl.String).str.split("\n").explode()
    if lines.len() != count:
        raise MalformedMessage(f"count is {count} but {lines.len()} lines follow")
    span = Span(text["file"], numbers["start"], numbers["end"])
    return LineBatch(text["id"], text["host"], text["source"], span, numbers["part"], numbers["parts"], lines)


def _text(name: str) -> str:
    """``name`` as valid UTF-8 (file names that are not keep their bytes escaped)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
