"""How loglens names, spaces and reports failures of its sources and sinks.

A failing part is retried with exponential backoff and logged once when it starts failing and once
when it recovers, never on every attempt.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

import polars as pl

from loglens.errors import FormatError

#: Longest wait between two attempts of a failing part.
MAX_BACKOFF_SECONDS = 30.0
#: First wait after a failure.
FIRST_BACKOFF_SECONDS = 0.5


#: What a parser raises on input or a pattern it cannot handle.
_PARSE_FAILURES = (
    FormatError,
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
    ValueError,
    OverflowError,
)


def is_fatal(exc: BaseException) -> bool:
    """True for what must end the process, not be counted: interrupts, exits, generator closing."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit)


def reason(exc: BaseException) -> str:
    """The ``reason`` label of a failure."""
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, FileNotFoundError):
        return "vanished"
    if isinstance(exc, EOFError):
        return "truncated"
    if isinstance(exc, OSError):
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            return "too_many_open_files"
        return "no_space" if exc.errno == errno.ENOSPC else "io"
    if isinstance(exc, _PARSE_FAILURES):
        return "parse"
    return "internal"


def describe(exc: BaseException) -> str:
    """One line naming the failure."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class Backoff:
    """Failure state of one part: when to try again, and whether it is failing now."""

    what: str
    log: logging.Logger
    failures: int = 0  # consecutive
    retry_at: float = 0.0
    last_error: str | None = None

    @property
    def healthy(self) -> bool:
        """False from a failure until the next success."""
        return self.failures == 0

    def ready(self, now: float) -> bool:
        """Whether an attempt is due."""
        return now >= self.retry_at

    def failed(self, exc: BaseException, now: float) -> str:
        """Record a failure; return its reason. Logged at the first failure of a streak only."""
        self.failures += 1
        self.last_error = describe(exc)
        wait = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (self.failures - 1))
        self.retry_at = now + wait
        why = reason(exc)
        if self.failures == 1:
            if why == "internal":
                self.log.error("%s failed; retrying with backoff", self.what, exc_info=exc)
            else:
                self.log.warning("%s failed (%s): %s; retrying with backoff", self.what, why, self.last_error)
        return why

    def succeeded(self) -> None:
        """Record a success; logged when it ends a streak of failures."""
        if self.failures:
            self.log.warning("%s recovered after %d failed attempt(s)", self.what, self.failures)
        self.failures, self.retry_at, self.last_error = 0, 0.0, None
