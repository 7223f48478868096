"""The archive as a runtime sink: every line of each batch it accepts, appended to gzip segments.

A line's attributes (Loki's labels and structured metadata) go with it, in its member's header.

A source's lines are buffered, compressed in a thread of their own as one gzip member (at 4 MiB, and
at every checkpoint), and written to the source's open segment in the spool, which closes when it
reaches ``segment_max_bytes`` or ``segment_max_seconds``.

Exactly once across crashes. :meth:`ArchiveSink.state` (called by the runtime's checkpoint, saved
with the sources' positions in one transaction) writes everything buffered, fsyncs it, and reports
each open segment with its length and the next sequence number; it raises while a write fails, so the
checkpoint never gets ahead of the archive. :meth:`ArchiveSink.restore` cuts every open segment back
to that length and deletes the segments begun after it, and the sources read again what came after
the checkpoint. A closed segment is stored by the backend only once a checkpoint that knows it closed
is saved (the runtime's count of saves tells), so nothing a restart would cut back ever leaves the
spool. A graceful stop closes the open segments too, when its last checkpoint holds all they have.
A start without a checkpoint deletes the spool's segments if no checkpoint ever knew them (a crash
before the first save: the sources read their lines again), and stores them otherwise (the checkpoint
was set aside, ``--reset-state``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from loglens.archive.backend import backend_for
from loglens.archive.names import safe_source
from loglens.archive.publisher import Pending, Publisher
from loglens.archive.segments import OpenSegment, SealedSegment, encode_member
from loglens.archive.spool import SPOOL_DIR, Spool, SpoolFile, spool_name
from loglens.clock import Clock, SystemClock
from loglens.config import Settings
from loglens.contracts import SinkHealth
from loglens.records import Batch

log = logging.getLogger("loglens.archive")

#: A source's buffered lines become one gzip member at this size (estimated, in memory).
MEMBER_BYTES = 4 * 1024 * 1024
#: Buffered lines over all sources at which every buffer is compressed.
BUFFER_BYTES = 16 * 1024 * 1024
#: Compressed members waiting to be written, beyond which ``write`` waits for the oldest.
MAX_JOBS = 2
#: Seconds a graceful stop goes on storing closed segments (the rest are stored at the next start).
DRAIN_SECONDS = 30.0


@dataclass
class _Buffer:
    """Lines of one source waiting to be compressed."""

    started: float  # arrival of the first
    parts: list[pl.Series] = field(default_factory=list)
    attributes: list[pl.Series | None] = field(default_factory=list)  # per part
    size: int = 0
    lines: int = 0


@dataclass
class _Job:
    """One member being compressed, written once it is ready, in order."""

    label: str
    started: float
    lines: int
    parts: list[pl.Series]
    attributes: list[pl.Series | None]
    future: Future[tuple[bytes, int]]


@dataclass
class ArchiveCounts:
    """What the sink wrote since the process started."""

    lines: int = 0
    bytes: int = 0  # compressed, into segments
    raw_bytes: int = 0  # the lines, newlines included
    segments: int = 0  # closed


@dataclass(frozen=True)
class ArchiveReport:
    """The archive as it stands (``/metrics``, ``/api/status``)."""

    backend: str
    where: str
    counts: ArchiveCounts
    stored: int
    stored_bytes: int
    failures: int
    expired: int
    last_lag: float | None
    open_segments: int
    pending: Pending
    healthy: bool
    last_error: str | None


class ArchiveSink:
    """Appends the raw lines of every accepted batch to segments per source; see the module.

    Args:
        spool: where segments are written and wait to be stored.
        publisher: stores closed segments through the backend.
        accepts: whether the lines of a ``source`` label are archived (asked once per label).
        clock: arrival times (segment names, ages).
        saves: how many checkpoints the runtime has saved; None for a runtime without a checkpoint
            (then closed segments are stored at once, and a stop closes every segment).
        max_bytes: a segment closes once it is this big.
        max_seconds: a segment closes this long after its first line arrived.
        level: the gzip level, 0 to 3.
    """

    name = "archive"

    def __init__(
        self,
        spool: Spool,
        publisher: Publisher,
        *,
        accepts: Callable[[str], bool] = lambda label: True,
        clock: Clock | None = None,
        saves: Callable[[], int] | None = None,
        max_bytes: int = 64 * 1024 * 1024,
        max_seconds: float = 300.0,
        level: int = 2,
    ) -> None:
        self.spool = spool
        self.publisher = publisher
        self.accepts = accepts
        self.clock = clock or SystemClock()
        self.saves = saves
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.level = level
        self.counts = ArchiveCounts()
        self._labels: dict[str, str | None] = {}  # label -> folder name, None when not archived
        self._buffers: dict[str, _Buffer] = {}
        self._buffered = 0
        self._jobs: deque[_Job] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._open: dict[str, OpenSegment] = {}
        self._next = 0
        self._closed_since: list[SealedSegment] = []  # closed since the last state()
        self._awaiting: deque[tuple[int, list[SealedSegment], dict[str, Any]]] = deque()
        self._committed: dict[str, Any] | None = None  # the state a saved checkpoint holds
        self._last_state: dict[str, Any] | None = None
        self._changed = False  # lines taken since the last state()
        self._recovered = False
        self._closed = False

    # -- the Sink protocol -------------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Take ``batch``'s lines if its source is archived.

        Raises:
            OSError: an earlier member still cannot be written (the batch is not taken).
            ValueError: the sink is closed.
        """
        if self._closed:
            raise ValueError("the archive is closed")
        label = batch.source
        if self._safe(label) is None or batch.raw.is_empty():
            return
        self._recover(None)
        self._write_ready(block=False)
        buffer = self._buffers.get(label)
        if buffer is None:
            buffer = self._buffers[label] = _Buffer(self.clock.now())
        attributes = batch.attributes
        size = int(batch.raw.estimated_size())
        size += 0 if attributes is None else int(attributes.estimated_size())
        buffer.parts.append(batch.raw)
        buffer.attributes.append(attributes)
        buffer.size += size
        buffer.lines += len(batch.raw)
        self._buffered += size
        self._changed = True
        if buffer.size >= MEMBER_BYTES:
            self._compress(label)
        elif self._buffered >= BUFFER_BYTES:
            self._compress_all()
        while len(self._jobs) > MAX_JOBS:
            try:
                self._write_one()
            except Exception:  # the batch is taken; the next write or state() raises it
                break

    def state(self) -> dict[str, Any]:
        """Write and fsync every line taken, close the segments too old, and report the open ones.

        Raises:
            OSError: lines taken could not be written or synced (the checkpoint must not be saved).
        """
        self._recover(None)
        self._compress_all()
        self._write_ready(block=True)
        now = self.clock.now()
        for label, segment in list(self._open.items()):
            if now - segment.started >= self.max_seconds:
                self._closed_segment(self._close(label, now))
        for segment in self._open.values():
            segment.sync()
        self.spool.sync()
        self._release()
        state = {
            "next": self._next,
            "open": {
                label: {"segment": spool_name(segment.seq, segment.name), "bytes": segment.size}
                for label, segment in self._open.items()
            },
        }
        if self.saves is not None:
            saved = self.saves()
            if self._awaiting and self._awaiting[-1][0] == saved:  # the same save releases both: one entry
                _, closed, _ = self._awaiting.pop()
                self._closed_since = closed + self._closed_since
            self._awaiting.append((saved, self._closed_since, state))
            self._closed_since = []
        self._last_state, self._changed = state, False
        return state

    def restore(self, state: dict[str, Any]) -> None:
        """Cut the spool back to ``state``: open segments to their length, later segments deleted."""
        self._recover(state)

    def flush(self) -> None:
        """Compress and write every line taken (not synced: :meth:`state` does that)."""
        if self._recovered:
            self._compress_all()
            self._write_ready(block=True)

    def close(self) -> None:
        """Close the segments the last saved checkpoint holds whole, store what is closed (for up to
        30 s), and release the spool."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._recovered:
                self._finish()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            for segment in self._open.values():
                segment.close()
            self.publisher.close(DRAIN_SECONDS)

    def health(self) -> SinkHealth:
        """Whether storing segments works, and the archive's figures."""
        report = self.report()
        pending = report.pending
        detail = {
            "backend": report.backend,
            "where": report.where,
            "lines": report.counts.lines,
            "bytes": report.counts.bytes,
            "segments_written": report.counts.segments,
            "segments_uploaded": report.stored,
            "upload_failures": report.failures,
            "segments_expired": report.expired,
            "open_segments": report.open_segments,
            "pending_segments": pending.segments,
            "pending_bytes": pending.bytes,
            "oldest_pending_closed_at": pending.oldest,
            "last_upload_lag_seconds": report.last_lag,
        }
        return SinkHealth(report.healthy, report.last_error, detail)

    def report(self) -> ArchiveReport:
        """The archive's figures now (from any thread)."""
        publisher = self.publisher
        counts = publisher.counts
        return ArchiveReport(
            backend=publisher.backend.kind,
            where=publisher.backend.where,
            counts=ArchiveCounts(**vars(self.counts)),
            stored=counts.stored,
            stored_bytes=counts.stored_bytes,
            failures=counts.failures,
            expired=counts.expired,
            last_lag=counts.last_lag,
            open_segments=len(self._open),
            pending=publisher.pending(),
            healthy=publisher.healthy,
            last_error=publisher.last_error,
        )

    # -- writing -----------------------------------------------------------------------------------

    def _safe(self, label: str) -> str | None:
        try:
            return self._labels[label]
        except KeyError:
            safe = self._labels[label] = safe_source(label) if self.accepts(label) else None
            return safe

    def _compress(self, label: str) -> None:
        buffer = self._buffers.pop(label)
        self._buffered -= buffer.size
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="loglens-archive-gzip")
        future = self._pool.submit(encode_member, buffer.parts, self.level, buffer.attributes)
        self._jobs.append(_Job(label, buffer.started, buffer.lines, buffer.parts, buffer.attributes, future))

    def _compress_all(self) -> None:
        for label in list(self._buffers):
            self._compress(label)

    def _write_ready(self, block: bool) -> None:
        """Write the compressed members in order: all of them, or (``block`` False) those ready."""
        while self._jobs and (block or self._jobs[0].future.done()):
            self._write_one()

    def _write_one(self) -> None:
        job = self._jobs[0]
        try:
            member, raw_bytes = job.future.result()
        except Exception:
            assert self._pool is not None
            job.future = self._pool.submit(encode_member, job.parts, self.level, job.attributes)
            raise
        now = self.clock.now()
        segment = self._open.get(job.label)
        if segment is not None and now - segment.started >= self.max_seconds:
            self._closed_segment(self._close(job.label, now))
            segment = None
        if segment is None:
            safe = self._labels.get(job.label) or safe_source(job.label)
            segment = self.spool.create(job.label, safe, self._next, job.started)
            self._open[job.label] = segment
            self._next += 1
        segment.append(member)
        self._jobs.popleft()
        self.counts.lines += job.lines
        self.counts.bytes += len(member)
        self.counts.raw_bytes += raw_bytes
        if segment.size >= self.max_bytes:
            self._closed_segment(self._close(job.label, now))

    def _close(self, label: str, now: float) -> SealedSegment:
        segment = self._open[label]
        sealed = self.spool.seal(segment, now)
        del self._open[label]
        self.counts.segments += 1
        return sealed

    # -- storing -----------------------------------------------------------------------------------

    def _closed_segment(self, sealed: SealedSegment) -> None:
        """Store ``sealed`` once a checkpoint that knows it closed is saved (at once without one)."""
        if self.saves is None:
            self.publisher.submit(sealed)
        else:
            self.publisher.hold(sealed)
            self._closed_since.append(sealed)

    def _release(self) -> None:
        """Submit the segments closed before a state() call that a saved checkpoint followed."""
        if self.saves is None:
            return
        saved = self.saves()
        if self._awaiting and self._awaiting[0][0] < saved:
            self.spool.mark_checkpointed()
        while self._awaiting and self._awaiting[0][0] < saved:
            _, sealed, state = self._awaiting.popleft()
            for segment in sealed:
                self.publisher.submit(segment)
            self._committed = state

    def _finish(self) -> None:
        """At close: store the open segments too, when no restart would cut them back."""
        self._release()
        if self.saves is None:
            self.flush()
        elif self._changed or self._jobs or self._last_state is None or self._last_state != self._committed:
            return  # the next start cuts them back to the checkpoint and goes on writing them
        now = self.clock.now()
        for label in list(self._open):
            self.publisher.submit(self._close(label, now))
        self.spool.sync()

    # -- recovery ----------------------------------------------------------------------------------

    def _recover(self, state: dict[str, Any] | None) -> None:
        """Take up the spool, once: against the checkpoint's ``state``, or (None) as it is."""
        if self._recovered:
            return
        self._recovered = True
        files = self.spool.scan()
        if state is None and self.saves is not None and not self.spool.checkpointed:
            for file in files:  # no checkpoint ever knew them: the sources read their lines again
                self.spool.remove(file)
        elif state is None:  # the checkpoint was set aside (--reset-state): keep what is there
            self._next = max((file.seq for file in files), default=-1) + 1
            for file in files:
                self.publisher.submit(self.spool.close_file(file))
        else:
            self.spool.mark_checkpointed()
            self._next = int(state["next"])
            wanted = {
                (safe_source(label), entry["segment"]): (label, int(entry["bytes"]))
                for label, entry in state["open"].items()
            }
            for file in files:
                hit = wanted.pop((file.name.safe, file.filename), None)
                if hit is not None:
                    self._resume(file, *hit)
                elif file.seq < self._next:  # closed before the checkpoint
                    self.publisher.submit(self.spool.close_file(file))
                else:  # begun after it
                    self.spool.remove(file)
            self._committed = self._last_state = state
        self.spool.sync()
        self.publisher.start()

    def _resume(self, file: SpoolFile, label: str, length: int) -> None:
        """Take up the segment the checkpoint had open, cut back to the length it knew."""
        if file.size < length:
            log.warning(
                "archive: %s holds %d bytes, the checkpoint knew %d; keeping what is there",
                file.path, file.size, length,
            )  # fmt: skip
            length = file.size
        if not file.open and file.size == length:  # closed whole at a graceful stop
            self.publisher.submit(self.spool.close_file(file))
        elif length == 0:
            self.spool.remove(file)
        else:
            self._open[label] = self.spool.reopen(file, label, length)


def build_archive(
    settings: Settings,
    clock: Clock,
    accepts: Callable[[str], bool],
    saves: Callable[[], int] | None,
) -> ArchiveSink:
    """The archive of ``settings.archive``, with its spool in the state folder.

    Raises:
        ConfigError: the S3 backend without boto3, or with an unusable endpoint.
    """
    archive = settings.archive
    publisher = Publisher(backend_for(settings), clock, archive.retention)
    return ArchiveSink(
        Spool(settings.state.dir / SPOOL_DIR),
        publisher,
        accepts=accepts,
        clock=clock,
        saves=saves,
        max_bytes=archive.segment_max_bytes,
        max_seconds=archive.segment_max_seconds,
        level=archive.compression_level,
    )
