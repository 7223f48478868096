"""``POST /loki/api/v1/push``: Loki's push API, in JSON and in snappy-compressed protobuf.

JSON: ``{"streams": [{"stream": {labels}, "values": [["<ns>", "<line>", {metadata}?], ...]}]}``.
Protobuf (``application/x-protobuf``, what Promtail and Alloy send): a ``PushRequest`` in snappy's block
format. Either may also be gzip or deflate (``Content-Encoding``). The answer is 204 once the lines are
durable.

Each stream's lines go to the source its labels name (the first of :data:`SOURCE_LABELS` it has), unless
the request names one (``?source=``); they are parsed with the request's or the configured format, as
lines of ``POST /api/logs`` are. Each line keeps its stream's labels and its structured metadata as its
attributes (``{"labels": {...}, "metadata": {...}}``), which the archive stores beside it. Entry
timestamps are not kept: a line's time is the one it holds.
"""

from __future__ import annotations

import re
from typing import Any

import cramjam
import orjson
from google.protobuf.message import DecodeError
from starlette.datastructures import Headers

from loglens.ingest.bodies import BadBody, Lines
from loglens.ingest.loki_proto import PushRequest
from loglens.ingest.protocol import Header, Streams, source_name

#: Stream labels that name the source, in the order they are looked for.
SOURCE_LABELS = ("service_name", "service", "app", "application", "job", "container")
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPES = frozenset({"application/json", ""})
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)', re.S)
_ESCAPES = {"\\n": "\n", '\\"': '"', "\\\\": "\\", "\\t": "\t"}
_JSON_ERROR = [(b"content-type", b"application/json")]


class Loki:
    """The Loki push protocol (see the module); bodies of at most ``limit`` bytes once unzipped."""

    name = "loki"
    methods: tuple[str, ...] = ("POST",)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def decode(self, body: bytes, headers: Headers, max_line_bytes: int) -> Streams:
        """The lines of a push body, by the source each stream's labels name.

        Raises:
            BadBody: not JSON or protobuf, broken snappy, bad labels, or a shape Loki does not send.
        """
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        streams = Streams()
        kept = _Kept(self.limit, max_line_bytes)
        if media_type in PROTOBUF_TYPES:
            request = _protobuf(body, self.limit)
            for number, stream in enumerate(request.streams):
                labels = _labels(stream.labels, number)
                lines = streams.of(_source(labels))
                for at, entry in enumerate(stream.entries):
                    metadata = {pair.name: pair.value for pair in entry.structuredMetadata}
                    kept.add(lines, entry.line, f"stream {number} entry {at}", labels, metadata)
        elif media_type in JSON_TYPES:
            _json(body, streams, kept)
        else:
            known = "application/json or application/x-protobuf (snappy)"
            raise BadBody(f"content type {media_type!r} is not read here ({known})", 415)
        return streams

    def accepted(self, streams: Streams, headers: Headers) -> tuple[int, list[Header], bytes]:
        """204, as Loki answers."""
        return 204, [], b""

    def refused(self, status: int, message: str, headers: Headers) -> tuple[list[Header], bytes]:
        """``{"error": message}``."""
        return _JSON_ERROR, orjson.dumps({"error": message})


def _protobuf(body: bytes, limit: int) -> Any:
    """The ``PushRequest`` of a snappy-compressed body, at most ``limit`` bytes uncompressed.

    Raises:
        BadBody: not snappy, larger than ``limit`` (413), or not a ``PushRequest``.
    """
    try:
        if cramjam.snappy.decompress_raw_len(body) > limit:  # the length snappy's header declares
            raise BadBody(f"the body is over {limit} bytes once uncompressed (ingest.max_body_bytes)", 413)
        data = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise BadBody(f"the body is not snappy-compressed (block format): {exc}") from None
    try:
        return PushRequest.FromString(data)
    except DecodeError as exc:
        raise BadBody(f"the body is not a Loki PushRequest: {exc}") from None


class _Kept:
    """Adds lines with their attributes, within a bound on the attributes' bytes over the request.

    Every line keeps its own copy of its stream's labels: without the bound, a small body of many
    short entries under long labels would take many times its size in the spool and in memory.
    """

    def __init__(self, limit: int, max_line_bytes: int) -> None:
        self.limit = self.left = limit
        self.max_line_bytes = max_line_bytes

    def add(
        self, lines: Lines, text: str, where: str, labels: dict[str, str], metadata: dict[str, str]
    ) -> None:
        """``text``'s lines, each with ``labels`` and ``metadata``.

        Raises:
            BadBody: 413, the request's lines would keep more than ``limit`` bytes of them.
        """
        before = len(lines.lines)
        lines.add(text, self.max_line_bytes, where, _attributes(labels, metadata))
        size = sum(len(name) + len(value) for part in (labels, metadata) for name, value in part.items())
        self.left -= size * (len(lines.lines) - before)
        if self.left < 0:
            raise BadBody(
                f"the labels and structured metadata the lines keep, each line its own copy, come to more "
                f"than {self.limit} bytes (ingest.max_body_bytes)",
                413,
            )


def _json(body: bytes, streams: Streams, kept: _Kept) -> None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc}") from None
    items = data.get("streams") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise BadBody('expected {"streams": [{"stream": {labels}, "values": [["<ns>", "<line>"], ...]}]}')
    for number, item in enumerate(items):
        labels = item.get("stream", {}) if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(labels, dict) or not isinstance(values, list):
            raise BadBody(f'streams[{number}] is not {{"stream": {{labels}}, "values": [...]}}')
        if not all(isinstance(v, str) for v in labels.values()):
            raise BadBody(f"streams[{number}].stream: label values must be strings")
        lines = streams.of(_source(labels))
        for at, value in enumerate(values):
            if not (
                isinstance(value, list)
                and len(value) in (2, 3)
                and isinstance(value[0], str)
                and isinstance(value[1], str)
                and (len(value) == 2 or isinstance(value[2], dict))
            ):
                raise BadBody(f'streams[{number}].values[{at}] is not ["<ns>", "<line>"] or with metadata')
            metadata = value[2] if len(value) == 3 else {}
            if not all(isinstance(v, str) for v in metadata.values()):
                raise BadBody(f"streams[{number}].values[{at}][2]: metadata values must be strings")
            kept.add(lines, value[1], f"streams[{number}].values[{at}]", labels, metadata)


def _labels(text: str, number: int) -> dict[str, str]:
    """The labels of a protobuf stream, written as a selector: ``{app="web", job="x"}``.

    Raises:
        BadBody: not that shape.
    """
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise BadBody(f'stream {number}: labels {text[:80]!r} are not {{name="value", ...}}')
    inner = inner[1:-1].strip()
    labels: dict[str, str] = {}
    at = 0
    while at < len(inner):
        match = _LABEL.match(inner, at)
        if match is None:
            raise BadBody(f'stream {number}: labels {text[:80]!r} are not {{name="value", ...}}')
        labels[match[1]] = re.sub(r"\\.", lambda m: _ESCAPES.get(m[0], m[0][1]), match[2])
        at = match.end()
    return labels


def _attributes(labels: dict[str, str], metadata: dict[str, str]) -> dict[str, Any] | None:
    """What a line keeps beside it: its stream's labels, and its structured metadata when it has any."""
    if not labels and not metadata:
        return None
    kept: dict[str, Any] = {"labels": labels} if labels else {}
    if metadata:
        kept["metadata"] = metadata
    return kept


def _source(labels: dict[str, Any]) -> str | None:
    """The source a stream's labels name, or None (the default source)."""
    for name in SOURCE_LABELS:
        value = labels.get(name)
        if isinstance(value, str) and value:
            return source_name(value)
    return None
