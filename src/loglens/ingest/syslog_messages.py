"""Syslog messages (RFC 5424 and RFC 3164) as JSON lines, and the framing of syslog over TCP (RFC 6587).

Written here: the syslog parsers on PyPI are unmaintained or read RFC 5424 only, and both formats are
a priority and a few space-separated fields, which a regular expression each reads.

A message becomes one line for the ``json`` format: ``{"ts", "level", "service", "host", "facility",
"message", "procid", "msgid", "sd"}``. The facility names the source (``syslog:user``), the severity
the level. A message with no priority is ``user.notice``, as RFC 3164 says.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "clock", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7",
)  # fmt: skip
#: Severities 0 (emerg) to 7 (debug) as loglens's level words.
LEVELS = ("CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")
DEFAULT_PRIORITY = 13  # user.notice
_PRI = re.compile(r"<([0-9]{1,3})>")
_RFC5424 = re.compile(r"([1-9][0-9]{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)", re.S)
_SD = re.compile(r'-|(?:\[[^\]\s"=]+(?:\s+[^\]\s"=]+="(?:[^"\\]|\\.)*")*\s*\])+', re.S)
_RFC3164 = re.compile(
    r"([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "  # Dec  1 07:56:43
    r"(?:(\S+) )?([^:\[\s]+)(?:\[([^\]]*)\])?: ?(.*)",  # host tag[pid]: message
    re.S,
)
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}  # fmt: skip
_BOM = "\ufeff"


def parse_message(raw: bytes, now: float, timezone: str = "UTC") -> tuple[str, str]:
    """The source and JSON line of one syslog message received at ``now``.

    RFC 3164 times carry no year and no zone: they are read in ``timezone``, in the year that puts them
    closest to ``now``. A missing time is ``now``. Never fails: what no format reads is the message.
    """
    text = raw.decode("utf-8", "replace").rstrip("\r\n\0")
    match = _PRI.match(text)
    priority = int(match[1]) if match and int(match[1]) < 192 else DEFAULT_PRIORITY
    rest = text[match.end() :] if match and int(match[1]) < 192 else text
    facility, severity = FACILITIES[priority >> 3], priority & 7
    fields: dict[str, object] = {"ts": now, "level": LEVELS[severity], "facility": facility}
    modern = _RFC5424.fullmatch(rest)
    parts = _sd_and_message(modern[7]) if modern else None
    legacy = None if parts else _RFC3164.fullmatch(rest)
    if modern and parts:
        _, stamp, host, app, procid, msgid, _ = modern.groups()
        sd, message = parts
        if stamp != "-":
            fields["ts"] = stamp
        fields.update(_known(host=host, service=app, procid=procid, msgid=msgid, sd=sd))
        fields["message"] = message.removeprefix(_BOM)
    elif legacy:
        month, day, hour, minute, second, host, tag, pid, message = legacy.groups()
        stamp_3164 = _legacy_time(month, int(day), int(hour), int(minute), int(second), now, timezone)
        if stamp_3164 is not None:
            fields["ts"] = stamp_3164
        fields.update(_known(host=host or "-", service=tag, procid=pid or "-"))
        fields["message"] = message
    else:
        fields["message"] = rest
    return f"syslog:{facility}", orjson.dumps(fields).decode()


def _known(**values: str) -> dict[str, str]:
    """The fields that are not the NILVALUE ``-``."""
    return {key: value for key, value in values.items() if value != "-"}


def _sd_and_message(tail: str) -> tuple[str, str] | None:
    """Structured data (``-`` or ``[id k="v"]...``) and the message after it, or None if it is neither."""
    match = _SD.match(tail)
    if match is None:
        return None
    rest = tail[match.end() :]
    if rest and not rest.startswith(" "):
        return None
    return match[0], rest[1:]


def _legacy_time(
    month: str, day: int, hour: int, minute: int, second: int, now: float, timezone: str
) -> str | None:
    number = _MONTHS.get(month)
    if number is None:
        return None
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, zone)
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(datetime(year, number, day, hour, minute, second, tzinfo=zone))
        except ValueError:  # 29 February of a year that has none, day 31 of a short month
            continue
    fitting = [when for when in candidates if when - today < timedelta(days=1)] or candidates
    if not fitting:
        return None
    return min(fitting, key=lambda when: abs(when - today)).isoformat()


class Framer:
    """Splits the bytes of one TCP connection into messages (RFC 6587), the framing told by its first
    byte: a digit is octet counting (``LEN SP MSG``), anything else a newline (or NUL) after each message.

    At most ``max_bytes`` are held for a message; a longer one is skipped and counted in ``dropped``.
    ``broken`` is set when an octet count is not one: the rest of the connection cannot be framed.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.octets: bool | None = None
        self.dropped = 0
        self.broken = False
        self._buffer = bytearray()
        self._skip = 0  # bytes of a too-long octet-counted message still to skip
        self._discarding = False  # inside a too-long newline-framed message

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by ``data``."""
        if self.broken:
            return []
        if self._skip:
            taken = min(self._skip, len(data))
            self._skip -= taken
            data = data[taken:]
        self._buffer += data
        if self.octets is None and self._buffer:
            self.octets = self._buffer[:1].isdigit()
        out = self._octet_frames() if self.octets else self._line_frames()
        return out

    def close(self) -> list[bytes]:
        """The last message of a newline-framed connection that ended without a newline."""
        if self.octets or self.broken or self._discarding or not self._buffer.strip():
            return []
        last = bytes(self._buffer)
        self._buffer.clear()
        return [last]

    def _octet_frames(self) -> list[bytes]:
        out: list[bytes] = []
        at = 0
        buffer = self._buffer
        while at < len(buffer):
            space = buffer.find(b" ", at, at + 12)
            if space < 0:
                if len(buffer) - at >= 12 or not buffer[at:].isdigit():
                    self.broken = True
                break
            count = buffer[at:space]
            if not count.isdigit() or count.startswith(b"0"):
                self.broken = True
                break
            size = int(count)
            start = space + 1
            if size > self.max_bytes:
                self.dropped += 1
                taken = min(size, len(buffer) - start)
                self._skip = size - taken
                at = start + taken
                continue
            if len(buffer) - start < size:
                break
            out.append(bytes(buffer[start : start + size]))
            at = start + size
        del buffer[:at]
        if self.broken:
            buffer.clear()
        return out

    def _line_frames(self) -> list[bytes]:
        out: list[bytes] = []
        parts = re.split(rb"[\n\0]", bytes(self._buffer))
        self._buffer = bytearray(parts.pop())
        for part in parts:
            if self._discarding:
                self._discarding = False  # the end of the too-long message
                continue
            if len(part) > self.max_bytes:
                self.dropped += 1
            elif part.strip(b"\r"):
                out.append(part)
        if len(self._buffer) > self.max_bytes:
            if not self._discarding:
                self.dropped += 1
            self._discarding = True
            self._buffer.clear()
        return out
