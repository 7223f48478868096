"""Delivery shared by every notifier: a bounded queue, a thread, retries with backoff, counts.

:meth:`Notifier.send` only enqueues, so the engine's loop never waits for a destination. The notifier's
own thread delivers the events one at a time, in order; a failed delivery is tried again after a wait
that doubles from ``first_backoff`` to ``max_backoff`` (with jitter), and nothing newer goes out before
it. When ``capacity`` events wait, a new one pushes out the oldest waiting one, counted as dropped. A
destination that answers "never" (an HTTP 4xx other than 408 and 429) rejects the event: it is counted
and given up, so one bad event does not stop the ones after it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections import deque

from loglens.alerts.engine import AlertEvent
from loglens.failures import describe

log = logging.getLogger("loglens.alerts.notify")

#: Events that may wait for one notifier.
QUEUE_CAPACITY = 1000
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
#: The largest share of a wait taken off at random, so that notifiers failing together spread out.
JITTER = 0.2
#: How long :meth:`Notifier.close` waits for the queue to drain, by default.
CLOSE_TIMEOUT_SECONDS = 5.0
OUTCOMES = ("sent", "failed", "rejected", "dropped")


class Rejected(Exception):
    """The destination refused the event for good; it is not tried again."""


def backoff(failures: int, first: float, cap: float, jitter: float = JITTER) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure."""
    wait = min(cap, first * 2 ** (failures - 1))
    return wait * (1 - jitter * random.random())


class _Refresh:
    """The queue item standing for :meth:`Notifier.refresh` (periodic work, not an event)."""


REFRESH = _Refresh()


class Notifier(ABC):
    """One destination of alert events, with its queue and delivery thread.

    Subclasses set :attr:`kind` (the ``notifier`` label of the metric) and implement :meth:`deliver`;
    one with periodic work also overrides :meth:`refresh_in` and :meth:`refresh`. The thread starts
    with the first event; :meth:`close` stops it.

    Args:
        capacity: events that may wait; more drop the oldest waiting.
        first_backoff: seconds before the first retry; each further failure doubles the wait.
        max_backoff: the longest wait between two attempts.
    """

    kind: str

    def __init__(
        self,
        capacity: int = QUEUE_CAPACITY,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self.capacity = max(1, capacity)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._queue: deque[AlertEvent] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._deadline = 0.0
        self._failures = 0

    @abstractmethod
    def describe(self) -> str:
        """The destination, for logs (``webhook http://...``)."""

    @abstractmethod
    def deliver(self, event: AlertEvent) -> None:
        """Deliver one event; raise on failure, :class:`Rejected` if retrying cannot help."""

    def refresh_in(self, now: float) -> float | None:
        """Seconds (monotonic ``now``) until :meth:`refresh` is due; None: nothing periodic."""
        return None

    def refresh(self) -> None:
        """Periodic delivery (Alertmanager's resend); raise on failure."""
        return None

    def release(self) -> None:
        """Free what the notifier holds (connections, files); called once, by its thread or close."""
        return None

    @property
    def queued(self) -> int:
        """Events waiting (the one being delivered not included)."""
        return len(self._queue)

    def send(self, event: AlertEvent) -> None:
        """Queue ``event`` for delivery; never blocks, never raises."""
        with self._wake:
            if self._closing:
                self.counts["dropped"] += 1
                return
            if len(self._queue) >= self.capacity:
                self._queue.popleft()
                self.counts["dropped"] += 1
            self._queue.append(event)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"notify-{self.kind}", daemon=True)
                self._thread.start()
            self._wake.notify()

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Deliver what waits for up to ``timeout`` seconds, then stop; what is left counts as dropped."""
        self.closing(timeout)
        self.join()

    def closing(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Start to close: deliver what waits for up to ``timeout`` seconds, then stop (without waiting
        here: :meth:`join` waits, so that many notifiers close in the same few seconds)."""
        with self._wake:
            if self._closing:
                return
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._wake.notify()

    def join(self) -> None:
        """Wait until the thread :meth:`closing` stopped is gone (a second past its deadline at most)."""
        with self._wake:
            thread = self._thread
            wait = max(0.0, self._deadline - time.monotonic()) + 1
        if thread is None:
            self.release()
            return
        thread.join(wait)
        if thread.is_alive():
            log.warning("%s still delivering at shutdown; left behind", self.describe())

    def _run(self) -> None:
        item: AlertEvent | _Refresh | None = None
        try:
            while True:
                if item is None:
                    item = self._next()
                    if item is None:
                        return
                if self._attempt(item):
                    item = None
                elif not self._pause(backoff(self._failures, self.first_backoff, self.max_backoff)):
                    return
        finally:
            self._give_up(item)
            self.release()

    def _next(self) -> AlertEvent | _Refresh | None:
        """The next event, or :data:`REFRESH` when due; None once closing with nothing left."""
        with self._wake:
            while True:
                if self._closing and (not self._queue or time.monotonic() >= self._deadline):
                    return None
                if self._queue:
                    return self._queue.popleft()
                wait = self.refresh_in(time.monotonic())
                if wait is not None and wait <= 0:
                    return REFRESH
                self._wake.wait(wait)

    def _attempt(self, item: AlertEvent | _Refresh) -> bool:
        """Deliver ``item``; False if it should be tried again."""
        try:
            if isinstance(item, AlertEvent):
                self.deliver(item)
            else:
                self.refresh()
        except Rejected as exc:
            self._count("rejected")
            log.warning("%s rejected a notification: %s", self.describe(), exc)
            return True
        except Exception as exc:
            self._count("failed")
            self._failures += 1
            if self._failures == 1:
                log.warning("%s failed: %s; retrying with backoff", self.describe(), describe(exc))
            return False
        if self._failures:
            log.warning("%s recovered after %d failed attempt(s)", self.describe(), self._failures)
            self._failures = 0
        self._count("sent")
        return True

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` before a retry; False if closing and its deadline comes first."""
        with self._wake:
            until = time.monotonic() + seconds
            while (now := time.monotonic()) < (end := min(until, self._deadline) if self._closing else until):
                self._wake.wait(end - now)
            return not (self._closing and time.monotonic() >= self._deadline)

    def _give_up(self, item: AlertEvent | _Refresh | None) -> None:
        with self._wake:
            left = len(self._queue) + isinstance(item, AlertEvent)
            self._queue.clear()
            self.counts["dropped"] += left
        if left:
            log.warning("%s: %d notification(s) not delivered at shutdown", self.describe(), left)

    def _count(self, outcome: str) -> None:
        with self._wake:
            self.counts[outcome] += 1
