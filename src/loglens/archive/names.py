"""How segments are named: ``{source}/{YYYY}/{MM}/{DD}/{HH}/{start}-{id}.log.gz``.

``start`` is the arrival time of the segment's first line (UTC, ``20261201T075643Z``), which also gives
the folders; ``id`` is 16 hex digits of the creation time in nanoseconds and 16 random ones, so names
sort in creation order and never collide. ``source`` is the ``source`` label made path-safe: every
byte of its UTF-8 but ``A-Z a-z 0-9 - _ .`` becomes ``%XX`` (a leading ``.`` too), which reads back
unchanged; a label that would take more than 200 bytes keeps 150 and ends in ``~`` and a hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes

SUFFIX = ".log.gz"
#: Longest path-safe source name kept whole.
MAX_SAFE = 200
_KEEP = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_START = "%Y%m%dT%H%M%SZ"
_KEY = re.compile(
    r"^(?P<safe>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/(?P<start>\d{8}T\d{6}Z)-(?P<uid>[0-9a-f]{32})\.log\.gz$"
)


def safe_source(label: str) -> str:
    """The folder name of ``label``."""
    raw = label.encode("utf-8", "surrogateescape")
    safe = "".join(
        chr(byte) if byte in _KEEP and not (at == 0 and byte == 0x2E) else f"%{byte:02X}"
        for at, byte in enumerate(raw)
    )
    if not safe or len(safe) > MAX_SAFE:
        safe = safe[:150] + "~" + hashlib.blake2b(raw, digest_size=8).hexdigest()
    return safe


def source_of(safe: str) -> str:
    """The label a folder name stands for (a shortened name stands for itself)."""
    if "~" in safe:
        return safe
    return unquote_to_bytes(safe).decode("utf-8", "surrogateescape")


def new_uid() -> str:
    """A segment's unique id."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def start_text(when: float) -> str:
    """``when`` as a segment's start."""
    return datetime.fromtimestamp(when, UTC).strftime(_START)


def start_time(text: str) -> float:
    """A segment's start read back, in seconds since the epoch."""
    return datetime.strptime(text, _START).replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class SegmentName:
    """The parts of a segment's name."""

    safe: str
    start: str
    uid: str

    @property
    def key(self) -> str:
        """The path of the segment in the archive (below the S3 prefix)."""
        s = self.start
        return f"{self.safe}/{s[:4]}/{s[4:6]}/{s[6:8]}/{s[9:11]}/{s}-{self.uid}{SUFFIX}"

    @property
    def source(self) -> str:
        """The ``source`` label."""
        return source_of(self.safe)

    @property
    def started(self) -> float:
        """The start, in seconds since the epoch."""
        return start_time(self.start)

    @classmethod
    def parse(cls, key: str) -> SegmentName | None:
        """The name of the segment at ``key``, or None for any other path."""
        match = _KEY.match(key)
        return cls(match["safe"], match["start"], match["uid"]) if match else None
