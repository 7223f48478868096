"""The small contracts the runtime is built from: what a Source and a Sink are, and what they report.

A *source* yields batches of parsed lines (a file follower, standard input, the replay reader). A
*sink* receives each batch once the runtime has folded it into the totals and windows. Both move
their position as JSON that the checkpoint keeps, so a restart resumes exactly where it stood.

Names that come from file names (``source`` labels, paths) may hold surrogate escapes, as ``os`` gives
names that are not valid UTF-8; views show them through :func:`printable`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from loglens.records import Batch
from loglens.sources.tail_views import FileView


def printable(text: str) -> str:
    """``text`` as valid UTF-8, for JSON and the exposition, which refuse surrogates.

    The bytes of a file name that is not UTF-8 (``caf\\xe9.log``, kept by ``os`` as surrogate escapes)
    are shown escaped, as ``\\xe9``.
    """
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name gives (from a YAML escape, say)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class SourceStatus:
    """What one source label reports of itself (``/api/status``, ``/metrics``).

    Attributes:
        name: the ``source`` label.
        lines: lines read by this process (good and bad).
        errors: read failures by reason (``permission``, ``vanished``, ``io``, ``parse``, ...).
        lag_bytes: bytes written to the source and not read yet.
        healthy: False while the source is failing (and being retried).
        labels: the extra labels of the source's metrics.
        files: its open files (file sources).
        rotations: files replaced at its path (file sources).
        truncations: files found shorter than read or rewritten (file sources).
        lines_per_second: lines read per second lately.
        last_error: the last failure, while failing.
    """

    name: str
    lines: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lag_bytes: int = 0
    healthy: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    files: list[FileView] = field(default_factory=list)
    rotations: int = 0
    truncations: int = 0
    lines_per_second: float = 0.0
    last_error: str | None = None


@dataclass(frozen=True)
class SinkStatus:
    """What one sink reports (``/api/status``, ``/metrics``)."""

    name: str
    written: int = 0  # batches written
    failed: int = 0  # write attempts that failed
    retried: int = 0  # batches written on a second or later attempt
    queued: int = 0  # batches waiting for a retry
    dropped: int = 0  # batches given up when the retry queue was full
    healthy: bool = True
    last_error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # what the sink reports of its own work


@dataclass(frozen=True)
class SinkHealth:
    """What a sink reports of work it does besides taking batches (uploads, say)."""

    healthy: bool = True
    last_error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ReportingSink(Protocol):
    """A sink that reports its own health: its failures count as the sink's in ``/api/status``,
    ``/api/ready`` and ``loglens_sink_up``, and its ``detail`` is shown in ``/api/status``."""

    def health(self) -> SinkHealth:
        """How its own work goes now (called from the views' threads)."""
        ...


class CheckpointHeld(Exception):
    """Raised by a sink's ``state()`` when its position cannot be saved yet (it waits for a peer's
    acknowledgement): the runtime skips this checkpoint, without counting a failure, and tries again at
    the next."""


@runtime_checkable
class PacedSink(Protocol):
    """A sink that can ask the runtime to stop reading its sources for a while (a NATS publisher whose
    stream is full): nothing is read, so nothing is dropped, until it accepts again."""

    def accepting(self) -> bool:
        """False while the runtime should not poll its sources (called once per pass of the loop)."""
        ...


class Source(Protocol):
    """Yields batches, each with its position already advanced; keeps that position as JSON."""

    id: str  # stable: the checkpoint keys the source's state by it

    def poll(self, now: float) -> Generator[Batch, None, None]:
        """What arrived since the last poll, in order. Raising marks the whole source as failing."""
        ...

    @property
    def backlog(self) -> bool:
        """True when more is ready than one poll reads: poll again at once."""
        ...

    @property
    def exhausted(self) -> bool:
        """True when the source will never yield again (the end of a replayed file)."""
        ...

    def state(self) -> dict[str, Any]:
        """The position reached, JSON-ready."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a position saved by :meth:`state`."""
        ...

    def status(self) -> list[SourceStatus]:
        """One entry per ``source`` label this source feeds."""
        ...

    def labels_of(self, name: str) -> dict[str, str]:
        """The extra labels of the ``source`` label ``name`` (asked at its first batch: keep it cheap)."""
        ...

    def committed(self, state: dict[str, Any]) -> None:
        """``state``, from :meth:`state`, is in the checkpoint now: what lies before it may be let go."""
        ...

    def close(self) -> None:
        """Release files and descriptors."""
        ...


class Sink(Protocol):
    """Receives every folded batch; may keep its own acknowledged position in the checkpoint."""

    name: str

    def write(self, batch: Batch) -> None:
        """Take one batch; raise (any exception) when it could not, and the runtime retries it."""
        ...

    def state(self) -> dict[str, Any]:
        """The acknowledged position, JSON-ready (``{}`` when the sink keeps none)."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a position saved by :meth:`state`."""
        ...

    def flush(self) -> None:
        """Finish what was written so far."""
        ...

    def close(self) -> None:
        """Flush and release what the sink holds."""
        ...
