"""Runs one sink for the runtime: counts what it writes, keeps failed batches for a retry, never raises.

A batch the sink refuses waits in a bounded queue and is retried with backoff, in order, before any
newer batch; when the queue is full the oldest batch is given up and counted as dropped. Ingestion
never waits for a failing sink.
"""

from __future__ import annotations

import logging
from collections import deque

from loglens.clock import Clock
from loglens.contracts import ReportingSink, Sink, SinkHealth, SinkStatus
from loglens.failures import Backoff, is_fatal
from loglens.records import Batch

log = logging.getLogger("loglens.sinks")

#: Batches kept for a retry while a sink fails, and the bytes they may hold.
MAX_QUEUED_BATCHES = 64
MAX_QUEUED_BYTES = 64 * 1024 * 1024


class SinkRunner:
    """One sink, its counters and its retry queue (called from the runtime's loop thread only)."""

    def __init__(self, sink: Sink, clock: Clock) -> None:
        self.sink = sink
        self.clock = clock
        self.backoff = Backoff(f"sink {sink.name}", log)
        self.written = self.failed = self.retried = self.dropped = 0
        self._queue: deque[tuple[Batch, int]] = deque()
        self._queued_bytes = 0

    def write(self, batch: Batch) -> None:
        """Hand ``batch`` to the sink, after any batch still waiting for a retry."""
        if self._queue:
            self._enqueue(batch)
            self.retry()
            return
        if not self._attempt(batch, retry=False):
            self._enqueue(batch)

    def retry(self) -> None:
        """Try the waiting batches again, oldest first, if their backoff has passed."""
        while self._queue and self.backoff.ready(self.clock.now()):
            batch, size = self._queue[0]
            if not self._attempt(batch, retry=True):
                return
            self._queue.popleft()
            self._queued_bytes -= size

    def _attempt(self, batch: Batch, retry: bool) -> bool:
        try:
            self.sink.write(batch)
        except BaseException as exc:
            if is_fatal(exc):
                raise
            self.failed += 1
            self.backoff.failed(exc, self.clock.now())
            return False
        self.written += 1
        self.retried += retry
        self.backoff.succeeded()
        return True

    def _enqueue(self, batch: Batch) -> None:
        size = int(batch.records.estimated_size()) + int(batch.raw.estimated_size())
        self._queue.append((batch, size))
        self._queued_bytes += size
        while len(self._queue) > MAX_QUEUED_BATCHES or (
            self._queued_bytes > MAX_QUEUED_BYTES and len(self._queue) > 1
        ):
            _, dropped = self._queue.popleft()
            self._queued_bytes -= dropped
            self.dropped += 1

    def call(self, step: str) -> None:
        """Run ``flush`` or ``close`` on the sink; a failure is counted and logged, not raised."""
        try:
            getattr(self.sink, step)()
        except BaseException as exc:
            if is_fatal(exc):
                raise
            self.failed += 1
            self.backoff.failed(exc, self.clock.now())

    def status(self) -> SinkStatus:
        """The sink's counters, and its own health when it reports one."""
        own = self.sink.health() if isinstance(self.sink, ReportingSink) else SinkHealth()
        return SinkStatus(
            name=self.sink.name,
            written=self.written,
            failed=self.failed,
            retried=self.retried,
            queued=len(self._queue),
            dropped=self.dropped,
            healthy=self.backoff.healthy and own.healthy,
            last_error=self.backoff.last_error or own.last_error,
            detail=own.detail,
        )
