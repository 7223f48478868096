"""What ``loglens archive`` reads: the segments of a time range and of some sources, stored or pending.

A segment is selected when it may hold lines that arrived in the range: it started before the range
ends, and was last written (stored, for S3) after it begins. Segments still open are not listed;
closed ones still in the spool (not uploaded yet) are, as ``pending``.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from loglens.archive.attributes import attributes_of, members
from loglens.archive.backend import Backend
from loglens.archive.local import LocalBackend
from loglens.archive.names import SegmentName, safe_source
from loglens.archive.spool import SPOOL_DIR, Spool
from loglens.errors import ConfigError
from loglens.generate.scenarios import parse_seconds


@dataclass(frozen=True)
class Listed:
    """One selected segment."""

    name: SegmentName
    size: int
    modified: float
    state: str  # "stored" or "pending"
    path: Path | None  # its local file, when it has one


def parse_when(text: str, now: float) -> float:
    """``2026-12-01T07:00:00Z`` (RFC 3339; UTC without an offset), or a time ago: ``90``, ``1h``, ``2d``.

    Raises:
        ConfigError: neither.
    """
    try:
        return now - parse_seconds(text)
    except ConfigError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is neither an RFC 3339 time nor a time ago (1h, 30m, 2d)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def select(
    backend: Backend,
    state_dir: Path,
    since: float | None = None,
    until: float | None = None,
    sources: Collection[str] = (),
) -> list[Listed]:
    """The segments of ``sources`` (labels; all when empty) that may hold lines of ``since``-``until``,
    oldest first."""
    safes = {safe_source(source) for source in sources} or None
    found: dict[str, Listed] = {}
    for file in Spool(state_dir / SPOOL_DIR).scan():
        if not file.open and (safes is None or file.name.safe in safes):
            found[file.name.key] = Listed(file.name, file.size, file.modified, "pending", file.path)
    local = backend.root if isinstance(backend, LocalBackend) else None
    for stored in backend.segments(safes):
        path = local / stored.name.key if local is not None else None
        found[stored.name.key] = Listed(stored.name, stored.size, stored.modified, "stored", path)
    return sorted(
        (
            listed
            for listed in found.values()
            if (until is None or listed.name.started <= until) and (since is None or listed.modified >= since)
        ),
        key=lambda listed: (listed.name.start, listed.name.uid, listed.name.safe),
    )


@contextmanager
def opened(backend: Backend, listed: Listed) -> Iterator[BinaryIO]:
    """The segment's compressed bytes."""
    with open(listed.path, "rb") if listed.path is not None else backend.open(listed.name) as raw:
        yield raw


def copy_lines(backend: Backend, listed: Listed, out: BinaryIO) -> None:
    """Write the segment's lines to ``out``."""
    with opened(backend, listed) as raw, gzip.GzipFile(fileobj=raw) as lines:
        shutil.copyfileobj(lines, out, 1024 * 1024)


def copy_records(backend: Backend, listed: Listed, out: BinaryIO) -> None:
    """Write the segment's lines to ``out`` as JSON lines: ``source`` and ``line``, and the ``labels``
    and ``metadata`` its shipper sent with it, where it sent any.

    Raises:
        ValueError: the segment is not whole gzip members.
    """
    source = listed.name.source
    with opened(backend, listed) as raw:
        for data, comment in members(raw):
            kept = attributes_of(comment)
            records = [
                orjson.dumps({"source": source, "line": line.decode("utf-8", "replace"), **kept.get(at, {})})
                for at, line in enumerate(data.split(b"\n")[:-1])
            ]
            out.write(b"".join(record + b"\n" for record in records))


def local_copy(backend: Backend, listed: Listed, folder: Path) -> Path:
    """A file holding the segment: its own, or a download into ``folder``."""
    if listed.path is not None:
        return listed.path
    target = folder / listed.name.key.replace("/", "_")
    with opened(backend, listed) as raw, open(target, "wb") as copy:
        shutil.copyfileobj(raw, copy, 1024 * 1024)
    return target
