"""Web-server access logs: ``common``, ``combined`` (with nginx's appended request time) and ``iso``.

    common    127.0.0.1 - james [09/May/2018:16:00:39 +0000] "GET /report HTTP/1.0" 200 123
    combined  common + "referer" "user-agent" [request-time]
    iso       the same with an ISO-8601 timestamp: [2025-01-01T12:34:56.789Z]

Strict variants come first: ASCII classes only (``[0-9]``, not the Unicode ``\\d``) and the request
split inside the regex, which measured 0.26 s per 250k lines against 0.72 s with Unicode classes and a
separate split. The lenient last variant accepts ``\\"`` inside quoted fields, requests without a
protocol, and trailing extras.

Each parser hands its lines first to the C reader (:mod:`loglens.parsing.clf_split`, when it is built
and not turned off), which reads the lines these strict regexes match (with a zoned time), 5x faster,
and leaves the others to the regexes.
"""

from __future__ import annotations

from loglens.parsing.clf_split import Shape, strict_reader
from loglens.parsing.regex import RegexParser, Variant

_CLF_TS = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[^\]]+"
_ISO_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][^\]]+"
_HEAD = r"^(?P<client>[^ ]+) [^ ]+ (?P<user>[^ ]+) \[(?P<ts>TS)\] "
#: The path's first segment is captured on the way (free inside the regex, 0.17 us a line after it);
#: every alternative starts with a different byte so the regex stays one-pass (a single-pass capture,
#: 3x faster than the engine an ambiguous regex falls back to).
_PATH = r'(?P<path>/(?P<segment>[^/?#\t "]*)(?:[/?#\t][^ "]*)?|[^/ "][^ "]*|)'
_STRICT_REQUEST = rf'"(?P<method>[A-Za-z]+) {_PATH} (?P<protocol>HTTP/[0-9.]+)"'
_STATUS_BYTES = r" (?P<status>[0-9]{3}) (?P<bytes>[0-9]+|-)"
_STRICT_TAIL = r' "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
_DURATION = r" (?P<duration>[0-9]+(?:\.[0-9]+)?)"


def _quoted(name: str) -> str:
    return rf'"(?P<{name}>[^"\\]*(?:\\.[^"\\]*)*)"'


COMMON = _HEAD + _STRICT_REQUEST + _STATUS_BYTES + "$"
COMBINED = _HEAD + _STRICT_REQUEST + _STATUS_BYTES + _STRICT_TAIL + "$"
COMBINED_DURATION = _HEAD + _STRICT_REQUEST + _STATUS_BYTES + _STRICT_TAIL + _DURATION + "$"
LENIENT = (
    _HEAD
    + _quoted("request")
    + _STATUS_BYTES
    + rf"(?: {_quoted('referer')} {_quoted('agent')})?(?:{_DURATION})?(?: .*)?$"
)


_CLF_SHAPE = "%d/%b/%Y:%H:%M:%S %z"
_ALL_SHAPES = Shape.COMMON | Shape.COMBINED | Shape.COMBINED_DURATION


def _variants(strict: list[str], ts: str) -> list[Variant]:
    """The strict regexes (no escapes in their quoted fields) then the lenient one, with ``ts`` in."""
    shape = _CLF_SHAPE if ts == _CLF_TS else None
    return [Variant(r.replace("TS", ts, 1), escapes=False, ts_shape=shape) for r in strict] + [
        Variant(LENIENT.replace("TS", ts, 1), ts_shape=shape)
    ]


def common(timezone: str = "UTC") -> RegexParser:
    """Common Log Format."""
    return RegexParser("common", _variants([COMMON], _CLF_TS), timezone, strict_reader(Shape.COMMON))


def combined(timezone: str = "UTC") -> RegexParser:
    """Combined Log Format, with or without an appended request time (common lines are read too)."""
    return RegexParser(
        "combined",
        _variants([COMBINED, COMBINED_DURATION, COMMON], _CLF_TS),
        timezone,
        strict_reader(_ALL_SHAPES),
    )


def iso(timezone: str = "UTC") -> RegexParser:
    """Common or combined layout with an ISO-8601 timestamp."""
    return RegexParser(
        "iso",
        _variants([COMMON, COMBINED, COMBINED_DURATION], _ISO_TS),
        timezone,
        strict_reader(_ALL_SHAPES | Shape.ISO_TIME),
    )
