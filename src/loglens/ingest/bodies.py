"""Request bodies of ``POST /api/logs`` and ``POST /log_collector``, turned into log lines.

Shapes taken: ``text/plain`` (one line per line), ``application/x-ndjson`` (one JSON value per line),
``application/json`` (an array, or one value). A JSON value is a string (the line) or an object whose
line is in ``message``, ``log`` or ``msg``, the fields Fluent Bit, Vector and syslog-ng put it in. A line
holding newlines becomes several lines, as a file would hold them. Bodies may be gzip (``Content-Encoding:
gzip``, or the gzip magic bytes) or deflate (``Content-Encoding: deflate``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Fields of a JSON object that hold its line, in the order they are looked for.
LINE_FIELDS = ("message", "log", "msg")
#: Media types read as plain text. ``application/x-www-form-urlencoded`` is what ``curl --data-binary``
#: sends unless told otherwise.
TEXT_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "application/octet-stream", ""})
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
)
JSON_TYPES = frozenset({"application/json"})
#: Errors named in an answer; the rest are counted.
MAX_ERRORS = 10


class BadBody(ValueError):
    """The request as a whole cannot be read (HTTP 400, or 413/415 as :attr:`status` says)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Lines:
    """The lines of one request, and the items refused (``rejected``), the first few with why."""

    lines: list[str] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    #: Per line, what the shipper sent beside it; None until a line has any.
    attributes: list[dict[str, Any] | None] | None = None

    def refuse(self, why: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(why)

    def add(
        self, text: str, max_line_bytes: int, where: str, attributes: dict[str, Any] | None = None
    ) -> None:
        """The lines of ``text``, each with ``attributes``; one too long is refused."""
        for line in text.split("\n"):
            line = line.removesuffix("\r")
            if len(line) > max_line_bytes // 4 and len(line.encode("utf-8", "replace")) > max_line_bytes:
                self.refuse(f"{where}: longer than {max_line_bytes} bytes (parse.max_line_bytes)")
                continue
            self.lines.append(line)
            if attributes is not None and self.attributes is None:
                self.attributes = [None] * (len(self.lines) - 1)
            if self.attributes is not None:
                self.attributes.append(attributes)


def decompress(body: bytes, encoding: str, limit: int, setting: str = "ingest.max_body_bytes") -> bytes:
    """``body`` unzipped when it is gzip or deflate (zlib, as HTTP means it); at most ``limit`` bytes
    once unzipped, the bound ``setting`` names.

    Raises:
        BadBody: not what it is said to be, broken, or larger than ``limit`` unzipped (413).
    """
    encoding = encoding.strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise BadBody(f"Content-Encoding {encoding!r} is not supported (gzip, deflate or none)", 415)
    if encoding in ("", "identity") and not body.startswith(b"\x1f\x8b"):
        return body
    name = "deflate" if encoding == "deflate" else "gzip"
    unzip = zlib.decompressobj(wbits=15 if name == "deflate" else 31)
    try:
        data = unzip.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadBody(f"the body is not valid {name}: {exc}") from None
    if len(data) > limit or unzip.unconsumed_tail:
        raise BadBody(f"the body is over {limit} bytes once unzipped ({setting})", 413)
    if not unzip.eof:
        raise BadBody(f"the {name} body is cut short")
    return data


def _line_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in LINE_FIELDS:
            line = value.get(key)
            if isinstance(line, str):
                return line
    return None


def _add_value(out: Lines, value: Any, max_line_bytes: int, where: str) -> None:
    line = _line_of(value)
    if line is None:
        kind = (
            "an object with no string message, log or msg"
            if isinstance(value, dict)
            else type(value).__name__
        )
        out.refuse(f"{where}: {kind}, not a line")
    else:
        out.add(line, max_line_bytes, where)


def _read_ndjson(body: bytes, out: Lines, max_line_bytes: int) -> None:
    for number, raw in enumerate(body.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.refuse(f"line {number}: not JSON ({exc})")
            continue
        _add_value(out, value, max_line_bytes, f"line {number}")


def read_lines(body: bytes, media_type: str, max_line_bytes: int) -> Lines:
    """The lines of a bulk body of ``media_type`` (already unzipped).

    Raises:
        BadBody: the media type is not one of those read (415), or JSON that does not parse.
    """
    media_type = media_type.partition(";")[0].strip().lower()
    out = Lines()
    if media_type in TEXT_TYPES:
        text = body.decode("utf-8", "replace")
        if text:
            out.add(text.removesuffix("\n"), max_line_bytes, "body")
        if out.errors:  # name the line numbers: a plain body has no item numbers
            out.errors = [error.replace("body", "a line", 1) for error in out.errors]
    elif media_type in NDJSON_TYPES:
        _read_ndjson(body, out, max_line_bytes)
    elif media_type in JSON_TYPES:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if body.strip().count(b"\n"):  # JSON lines sent as application/json (Fluent Bit before 3.0)
                _read_ndjson(body, out, max_line_bytes)
                return out
            raise BadBody(f"the body is not valid JSON: {exc}") from None
        for number, value in enumerate(data if isinstance(data, list) else [data]):
            _add_value(out, value, max_line_bytes, f"item {number}")
    else:
        known = "text/plain, application/x-ndjson or application/json"
        raise BadBody(f"content type {media_type!r} is not read here ({known})", 415)
    return out


def read_collector(body: bytes, media_type: str, max_line_bytes: int) -> Lines:
    """The one line of a ``/log_collector`` body, whatever its declared type (simulators vary).

    Raises:
        BadBody: as :func:`collector_line` says, or the line is over ``max_line_bytes`` (413).
    """
    out = Lines()
    out.add(collector_line(body), max_line_bytes, "message")
    if out.rejected:
        raise BadBody(out.errors[0], 413)
    return out


def collector_line(body: bytes) -> str:
    """The line of a ``/log_collector`` body, ``{"message": "<one log line>"}``.

    Raises:
        BadBody: not JSON, not an object, or no non-empty string ``message``.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadBody(f'expected an object {{"message": "<one log line>"}}, got {type(data).__name__}')
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadBody('"message" is missing or empty: send {"message": "<one log line>"}')
    return message
