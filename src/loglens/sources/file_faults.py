"""What goes wrong with a follower's files, each counted and logged once.

A folder that cannot be listed and a file that cannot be opened or read are failing: retried with
backoff, counted at each failure (``loglens_source_errors_total{reason}``), logged when they start
failing and when they recover. A FIFO, socket or device where a file is expected is counted and logged
once, never opened. Files beyond the descriptor budget (the open-file limit less a reserve for the
HTTP server and the checkpoint) are not opened: each is counted once as ``too_many_open_files``, its
source shows as failing, and one line says so; they are opened as descriptors free up.
"""

from __future__ import annotations

import errno
import logging
import resource
import sys
import threading
from collections import Counter

from loglens.failures import Backoff
from loglens.sources.discovery import FileId, NotRegularFile, file_id, file_kind

#: Descriptors kept for everything but followed files: the checkpoint, the listening socket, the event
#: loop, standard streams, folder listings, /proc reads (the HTTP server's connections come on top).
RESERVED_DESCRIPTORS = 64
#: ``last_error`` of a file left unopened for want of descriptors.
NO_DESCRIPTOR = "not followed: too many open files"


def descriptor_budget(reserve: int = RESERVED_DESCRIPTORS) -> int:
    """Files a follower may hold open: the soft ``RLIMIT_NOFILE`` less ``reserve``."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return sys.maxsize
    return max(0, soft - reserve)


def out_of_descriptors(exc: OSError) -> bool:
    """True for the errors of a process, or a system, out of file descriptors."""
    return exc.errno in (errno.EMFILE, errno.ENFILE)


class FileFaults:
    """The failures of one follower's files and folders, by key (a path, or ``listing`` + a spec's path).

    Args:
        log: where each fault is logged once.
        lock: the follower's lock, which readers of :meth:`errors` and :meth:`failing` take.
        max_open: files the follower may hold open.
    """

    def __init__(self, log: logging.Logger, lock: threading.Lock, max_open: int) -> None:
        self.log = log
        self.lock = lock
        self.max_open = max_open
        self._errors: dict[str, Counter[str]] = {}
        self._failing: dict[str, tuple[str, Backoff]] = {}  # key -> (source, backoff)
        self._irregular: dict[str, FileId] = {}  # FIFOs and such seen at the last poll
        self._seen_irregular: dict[str, FileId] = {}
        self._waiting: dict[str, str] = {}  # path -> source of files left unopened at the last poll
        self._now_waiting: dict[str, str] = {}

    def begin_poll(self) -> None:
        """A poll starts: what it meets replaces what the last one met."""
        self._seen_irregular, self._now_waiting = {}, {}

    def end_poll(self, open_files: int) -> None:
        """A poll ended: say once when files start, or stop, waiting for a descriptor."""
        if self._now_waiting and not self._waiting:
            self.log.warning(
                "%d file(s) not followed: %d are open, the most the open-file limit (ulimit -n) leaves "
                "besides the server and the checkpoint; raise it to follow them",
                len(self._now_waiting), open_files,
            )  # fmt: skip
        elif self._waiting and not self._now_waiting:
            self.log.warning("every file found is followed again")
        self._irregular = self._seen_irregular
        with self.lock:
            self._waiting = self._now_waiting

    def ready(self, key: str, now: float) -> bool:
        """Whether ``key`` is not waiting out a backoff."""
        failing = self._failing.get(key)
        return failing is None or failing[1].ready(now)

    def is_failing(self, key: str) -> bool:
        """Whether ``key`` failed last time."""
        return key in self._failing

    def failed(self, key: str, source: str, exc: BaseException, now: float) -> None:
        """Count a failure of ``key`` for ``source`` and back off."""
        with self.lock:
            _, backoff = self._failing.setdefault(key, (source, Backoff(key, self.log)))
            why = backoff.failed(exc, now)
            self._errors.setdefault(source, Counter())[why] += 1

    def recovered(self, key: str) -> None:
        """``key`` works again."""
        with self.lock:
            failing = self._failing.pop(key, None)
        if failing is not None:
            failing[1].succeeded()

    def not_regular(self, exc: NotRegularFile, source: str) -> None:
        """A FIFO, socket or device at a file's place: counted and logged once while it stays there."""
        path, fid = exc.path, file_id(exc.stat)
        if fid not in (self._irregular.get(path), self._seen_irregular.get(path)):
            self.log.warning("%s: not a regular file (%s); not followed", path, file_kind(exc.stat))
            with self.lock:
                self._errors.setdefault(source, Counter())["not_regular"] += 1
        self._seen_irregular[path] = fid

    def full(self, open_files: int) -> bool:
        """Whether the follower holds as many files open as its budget allows."""
        return open_files >= self.max_open

    def no_descriptor(self, path: str, source: str) -> None:
        """``path`` is left unopened for want of a descriptor; counted once until it is opened."""
        if path not in self._waiting and path not in self._now_waiting:
            with self.lock:
                self._errors.setdefault(source, Counter())["too_many_open_files"] += 1
        self._now_waiting[path] = source

    def errors(self, source: str) -> dict[str, int]:
        """Failures of ``source`` by reason (call under :attr:`lock`)."""
        return dict(self._errors.get(source, {}))

    def failing(self) -> dict[str, str]:
        """Sources failing now, with their last error (call under :attr:`lock`)."""
        out: dict[str, str] = {}
        for source, backoff in self._failing.values():
            out.setdefault(source, backoff.last_error or "failing")
        for source in self._waiting.values():
            out.setdefault(source, NO_DESCRIPTOR)
        return out

    def sources(self) -> set[str]:
        """Sources with errors counted (call under :attr:`lock`)."""
        return set(self._errors)
