"""Who may send what: source names, formats, the bound on distinct sources, and per-source rate limits."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from loglens.clock import Clock
from loglens.config_sections import IngestConfig
from loglens.parsing import FORMATS

#: A source label sent over HTTP: printable, no spaces, as file paths and service names are.
SOURCE_NAME = re.compile(r"[A-Za-z0-9_.:/@+-]{1,200}")


class Refused(Exception):
    """A request that is not taken, with the HTTP status and, for 429/503, the seconds to wait."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    at: float


class Admission:
    """Checks each request's source and format, and keeps the per-source token buckets."""

    def __init__(self, config: IngestConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._sources: set[str] = set()
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def source_and_format(self, source: str | None, format_: str | None) -> tuple[str, str]:
        """The request's source and format, defaults filled in.

        Raises:
            Refused: a source name or format loglens does not take (400), or one source too many (429).
        """
        name = source if source else self.config.source
        if not SOURCE_NAME.fullmatch(name):
            raise Refused(400, f"source {name[:80]!r} is not a name ([A-Za-z0-9_.:/@+-], at most 200)")
        fmt = format_ if format_ else self.config.format
        if fmt not in FORMATS:
            raise Refused(400, f"format {fmt[:40]!r} is not one of {', '.join(FORMATS)}")
        with self._lock:
            if name not in self._sources:
                if len(self._sources) >= self.config.max_sources:
                    raise Refused(
                        429,
                        f"source {name!r} would be one more than ingest.max_sources "
                        f"({self.config.max_sources}); send to a known source",
                        retry_after=60,
                    )
                self._sources.add(name)
        return name, fmt

    def take(self, source: str, lines: int) -> None:
        """Spend ``lines`` of ``source``'s rate (none configured: always allowed).

        The bucket holds one second of the rate, so a request larger than that is allowed once it is full.

        Raises:
            Refused: 429, with the seconds until the bucket holds enough.
        """
        rate = self.config.rate_limit_lines_per_second
        if rate is None or lines == 0:
            return
        now = self.clock.now()
        with self._lock:
            bucket = self._buckets.setdefault(source, _Bucket(rate, now))
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            need = min(float(lines), rate)
            if bucket.tokens < need:
                wait = max(1, math.ceil((need - bucket.tokens) / rate))
                raise Refused(
                    429, f"source {source!r} is over ingest.rate_limit_lines_per_second ({rate:g})", wait
                )
            bucket.tokens -= lines
