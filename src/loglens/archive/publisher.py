"""Hands closed segments to the backend in a thread of its own, oldest first, retried with backoff.

A segment is *held* from its closing until a checkpoint that knows it closed is saved, then *queued*;
both count as pending. A segment that cannot be stored stays in the spool (and in the queue) and is
tried again after 0.5 s, doubling to 30 s; the spool outlives a restart, whose recovery queues it again.
The same thread deletes the segments older than the retention age (:mod:`loglens.archive.retention`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from loglens.archive.backend import Backend
from loglens.archive.retention import expire
from loglens.archive.segments import SealedSegment
from loglens.clock import Clock
from loglens.failures import Backoff

log = logging.getLogger("loglens.archive")

#: Longest wait between two retention passes.
EXPIRE_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class Pending:
    """Closed segments not stored yet."""

    segments: int
    bytes: int
    oldest: float | None  # when the oldest one closed


@dataclass
class PublisherCounts:
    """What the publisher did since the process started."""

    stored: int = 0
    stored_bytes: int = 0
    failures: int = 0
    expired: int = 0
    last_lag: float | None = None  # seconds from closing to stored, of the last segment stored


class Publisher:
    """Stores segments through ``backend``; ``retention`` (seconds) deletes older ones."""

    def __init__(self, backend: Backend, clock: Clock, retention: float | None = None) -> None:
        self.backend = backend
        self.clock = clock
        self.retention = retention
        self.backoff = Backoff(f"archive: storing segments ({backend.kind})", log)
        self.retention_backoff = Backoff(f"archive: deleting expired segments ({backend.kind})", log)
        self.counts = PublisherCounts()
        self._cond = threading.Condition()
        self._held: dict[Path, SealedSegment] = {}
        self._queue: deque[SealedSegment] = deque()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._deadline = 0.0

    def start(self) -> None:
        """Start the thread (once)."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loglens-archive", daemon=True)
                self._thread.start()

    def hold(self, segment: SealedSegment) -> None:
        """Count ``segment`` as pending until it is submitted."""
        with self._cond:
            self._held[segment.path] = segment

    def submit(self, segment: SealedSegment) -> None:
        """Store ``segment`` after those submitted before it."""
        with self._cond:
            self._held.pop(segment.path, None)
            self._queue.append(segment)
            self._cond.notify()

    def pending(self) -> Pending:
        """The segments held or queued."""
        with self._cond:
            segments = [*self._held.values(), *self._queue]
        oldest = min((segment.closed_at for segment in segments), default=None)
        return Pending(len(segments), sum(segment.size for segment in segments), oldest)

    @property
    def healthy(self) -> bool:
        """False while storing or expiring segments fails."""
        return self.backoff.healthy and self.retention_backoff.healthy

    @property
    def last_error(self) -> str | None:
        """The failure, while failing."""
        return self.backoff.last_error or self.retention_backoff.last_error

    def expire(self) -> int:
        """Delete the segments older than the retention age now; how many.

        Raises:
            OSError, botocore errors: the backend could not list or delete them.
        """
        if self.retention is None:
            return 0
        expired = expire(self.backend, self.clock.now() - self.retention)
        self.counts.expired += expired
        return expired

    def close(self, drain_seconds: float) -> None:
        """Stop: go on storing what is queued for up to ``drain_seconds`` while that works; the rest
        stays in the spool."""
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + drain_seconds
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(drain_seconds + 5.0)  # an upload under way may end later: the thread is a daemon

    def _run(self) -> None:
        expire_at = time.monotonic() if self.retention is not None else None
        while True:
            job = self._next(expire_at)
            if job is None and self._stopping:
                return
            if job is None:
                self._expire_quietly()
                assert self.retention is not None
                expire_at = time.monotonic() + min(EXPIRE_EVERY_SECONDS, self.retention)
            else:
                self._store(job)

    def _next(self, expire_at: float | None) -> SealedSegment | None:
        """The segment to store next; None when it is time to expire, or to stop."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self._stopping and (not self._queue or now >= self._deadline or not self.backoff.healthy):
                    return None
                if self._queue and self.backoff.ready(now):
                    return self._queue[0]
                if expire_at is not None and now >= expire_at and not self._stopping:
                    return None
                waits = [when - now for when in (expire_at, self.backoff.retry_at if self._queue else None)
                         if when is not None]  # fmt: skip
                self._cond.wait(max(0.0, min(waits)) if waits else None)

    def _store(self, segment: SealedSegment) -> None:
        try:
            self.backend.store(segment.path, segment.name)
        except Exception as exc:
            if not segment.path.exists():
                log.error("archive: segment %s left the spool before it was stored", segment.path)
                self._done()
                return
            self.counts.failures += 1
            self.backoff.failed(exc, time.monotonic())
            return
        self._done()
        self.counts.stored += 1
        self.counts.stored_bytes += segment.size
        self.counts.last_lag = max(0.0, self.clock.now() - segment.closed_at)
        self.backoff.succeeded()

    def _done(self) -> None:
        with self._cond:
            self._queue.popleft()

    def _expire_quietly(self) -> None:
        try:
            self.expire()
        except Exception as exc:
            self.retention_backoff.failed(exc, time.monotonic())
        else:
            self.retention_backoff.succeeded()
