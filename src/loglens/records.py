"""Record and batch types shared by every layer.

Work moves through loglens in batches: a :class:`Batch` holds the records parsed from all the lines
read in one go, as a polars DataFrame with the columns of :data:`RECORD_SCHEMA`, in line order. Access
records have a ``status``; application records have a ``level``; any field a line does not carry is null.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

#: Normalized severity levels, least to most severe.
LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Datetime("us", "UTC"),  # event time, UTC
    "client": pl.String(),  # remote address
    "user": pl.String(),  # authenticated user, null for "-"
    "method": pl.String(),
    "path": pl.String(),  # request target as logged (query included)
    "section": pl.String(),  # "/" + first path segment, query removed
    "protocol": pl.String(),
    "status": pl.Int16(),
    "bytes": pl.Int64(),  # response size; "-" is 0
    "referer": pl.String(),
    "agent": pl.String(),
    "duration": pl.Float64(),  # request time in seconds
    "level": pl.String(),  # one of LEVELS
    "service": pl.String(),
    "message": pl.String(),
    "line": pl.UInt32(),  # 0-based index of the record's line in its batch's raw lines
    "vhost": pl.String(),  # the virtual host served (formats that log it)
}

_EMPTY_RECORDS = pl.DataFrame(schema=RECORD_SCHEMA)

#: The request methods that keep their own name in the ``method`` label and the method mixes (RFC 9110's
#: and PATCH; case-sensitive, as methods are).
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
#: What every other method is counted as, and a request line without one.
OTHER_METHOD = "OTHER"

#: Parse-error reasons loglens counts (``loglens_parse_errors_total{reason}``).
ERROR_REASONS: tuple[str, ...] = ("no_match", "bad_timestamp", "too_long", "empty", "bad_json", "unparsable")


def empty_records() -> pl.DataFrame:
    """Return a record frame with no rows (one shared frame: polars frames are immutable through the
    API loglens uses)."""
    return _EMPTY_RECORDS


def access_records(records: pl.DataFrame) -> pl.DataFrame:
    """The access records of ``records`` (those with a status), without a copy when all of them are."""
    if records["status"].null_count() == 0:
        return records
    return records.filter(pl.col("status").is_not_null())


def method_label() -> pl.Expr:
    """The ``method`` of access records as counted: a standard method as itself, any other (or none) as
    ``OTHER``. Pooled before the group-bys, so no input can make a batch's groups many."""
    method = pl.col("method")
    return pl.when(method.is_in(HTTP_METHODS)).then(method).otherwise(pl.lit(OTHER_METHOD)).alias("method")


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with exactly the record columns, in order, missing ones null."""
    return frame.select(_conforming(tuple(frame.columns)))


@functools.lru_cache(maxsize=64)
def _conforming(columns: tuple[str, ...]) -> list[pl.Expr]:
    """:func:`conform`'s expressions for a frame of ``columns``: built once per parser's columns, not
    once per batch (building them is a good part of a small batch's conform)."""
    return [
        (pl.col(name) if name in columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in RECORD_SCHEMA.items()
    ]


@dataclass(frozen=True)
class Span:
    """Where a batch's lines were read: ``file`` (an identity, such as ``dev:inode``) and its bytes."""

    file: str
    start: int
    end: int


@dataclass
class Batch:
    """The outcome of parsing a group of lines from one source.

    Attributes:
        source: name of the source the lines came from (a file path, ``stdin``, an ingest name).
        records: parsed records, one row per good line, columns of :data:`RECORD_SCHEMA`, sorted by
            ``line`` (``raw[line]`` is the record's line).
        lines: lines consumed, good and bad.
        errors: bad lines by reason.
        raw: the complete lines read, in input order (String; too-long lines are not in it).
        attributes: per line of ``raw``, what its shipper sent beside it as a JSON object (labels,
            structured metadata), or null; None when no line has any (files, most ingest).
        span: where they were read, when the source knows (files, the spool): a NATS publisher's ids.
    """

    source: str
    records: pl.DataFrame
    lines: int
    errors: Counter[str] = field(default_factory=Counter)
    raw: pl.Series = field(default_factory=lambda: pl.Series("line", [], dtype=pl.String))
    attributes: pl.Series | None = None
    span: Span | None = None

    @property
    def parsed(self) -> int:
        """Number of good lines."""
        return self.records.height
