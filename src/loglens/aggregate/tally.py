"""The groupings the goaccess panels are made of, over the access records counted since the last take.

Per grouping (requested files with whether they were not found, referrers, hosts, agents by batch, hours
since the epoch, status codes, users, virtual hosts, methods, sections, the sections of errors, and the
visitors of each day) and per key: hits, bytes, time served and how many were timed. Records carry a
``part`` (a source and minute, numbered by the caller) and a ``batch`` number (their agents are
classified batch by batch).

:class:`CTally` counts each batch as it comes, in C (``_tally.c``, which says why); without the compiled
module, or with ``LOGLENS_C_TALLY=0`` in the environment, :class:`PolarsTally` holds the records and
groups them with polars at :meth:`take`. Both key a string by its 64-bit hash and give the same rows
(tests/aggregate/test_tally.py); their visitor hashes differ, not the visitors they count.
"""

from __future__ import annotations

import os
import secrets
from typing import Protocol

import numpy as np
import polars as pl

from loglens.aggregate.counters import valid_durations
from loglens.aggregate.distinct import SEED
from loglens.records import RECORD_SCHEMA

try:
    from loglens.aggregate import _tally

    BUILT = True
except ImportError:  # built without a compiler or xxhash.h (setup.py marks the module optional)
    BUILT = False

#: The groupings, in the order ``_tally.take`` returns them.
GROUPS = (
    "paths", "referrers", "clients", "agents", "hours", "status", "users", "vhosts", "methods",
    "sections", "section_errors", "days",
)  # fmt: skip
#: The string column each grouping is keyed by (the others by a number).
KEYED_BY = {
    "paths": "path", "referrers": "referer", "clients": "client", "agents": "agent", "users": "user",
    "vhosts": "vhost", "methods": "method", "sections": "section", "section_errors": "section",
}  # fmt: skip
#: The string columns, in the order ``_tally.add`` takes them.
STRINGS = ("path", "referer", "client", "agent", "user", "vhost", "method", "section")
#: The columns a tally reads.
COLUMNS = ("ts", "status", "bytes", "duration", *STRINGS)
#: What a tally holds before it is full: keys of one grouping, bytes of their text (C); records (polars).
MAX_KEYS = 65_536
MAX_TEXT_BYTES = 16 << 20
MAX_RECORDS = 65_536
#: An odd constant the agent's hash is multiplied by before it is mixed with the client's (a visitor).
VISITOR_MIX = 0x9E3779B97F4A7C15
#: One entry of ``_tally.c``'s tables (``Entry``).
ENTRY = np.dtype(
    {
        "names": ["key", "part", "extra", "used", "length", "hits", "bytes", "timed", "served", "text"],
        "formats": ["<u8", "<u4", "<u4", "<u4", "<u4", "<i8", "<i8", "<i8", "<f8", "<i8"],
        "offsets": [0, 8, 12, 16, 20, 24, 32, 40, 48, 56],
        "itemsize": 64,
    }
)
_TYPED = pl.Schema({name: RECORD_SCHEMA[name] for name in COLUMNS})
_SUMS = {"hits": pl.Int64, "bytes": pl.Int64, "served": pl.Float64, "timed": pl.Int64}


class Tally(Protocol):
    """The panels' groupings of the records added since the last :meth:`take`."""

    def add(self, access: pl.DataFrame, part: int, batch: int) -> None:
        """Count access records (the :data:`COLUMNS`) under ``part`` and ``batch``."""
        ...

    def full(self) -> bool:
        """Whether it holds enough to be taken: :data:`MAX_KEYS` keys of one grouping or
        :data:`MAX_TEXT_BYTES` of their text (C), :data:`MAX_RECORDS` records (polars)."""
        ...

    def take(self) -> dict[str, pl.DataFrame]:
        """Every grouping's rows, and empty the tally: ``part``, the grouping's key (``key`` for the
        strings, with ``missing`` for paths and ``batch`` for agents; ``hour``; ``status``), the sums;
        ``days``: ``part``, ``day``, ``h`` (a list of visitor hashes)."""
        ...


def new_tally() -> Tally:
    """The C tally, or the polars one without it (or with ``LOGLENS_C_TALLY=0``)."""
    if BUILT and os.environ.get("LOGLENS_C_TALLY") != "0":
        return CTally()
    return PolarsTally()


def _inputs(access: pl.DataFrame) -> pl.DataFrame:
    """The numbers the polars tally counts: bytes (none as 0, negative as 0), seconds served (null when not
    timed), hours since the epoch."""
    timed = access["duration"].null_count() < len(access)
    return access.select(
        status=pl.col("status").cast(pl.Int64),
        size=pl.col("bytes").cast(pl.Int64).clip(lower_bound=0).fill_null(0),
        served=valid_durations(pl.col("duration").cast(pl.Float64)) if timed else pl.lit(None, pl.Float64),
        hour=pl.col("ts").dt.epoch("s") // 3600,
    )


class CTally:
    """Counted in C as each batch comes (``_tally.c``); holds only the keys seen."""

    def __init__(self) -> None:
        self._tally = _tally.Tally(secrets.randbits(64))

    def add(self, access: pl.DataFrame, part: int, batch: int) -> None:
        typed = access.select(COLUMNS)
        if typed.schema != _TYPED:
            typed = typed.select(pl.col(name).cast(kind) for name, kind in _TYPED.items())
        self._tally.add(typed.__arrow_c_stream__(), part, batch)

    def full(self) -> bool:
        return self._tally.entries() >= MAX_KEYS or self._tally.text_bytes() >= MAX_TEXT_BYTES

    def take(self) -> dict[str, pl.DataFrame]:
        out: dict[str, pl.DataFrame] = {}
        for name, (packed, texts) in zip(GROUPS, self._tally.take(), strict=True):
            entries = np.frombuffer(packed, dtype=ENTRY)
            sums = {column: pl.Series(entries[column], dtype=kind) for column, kind in _SUMS.items()}
            part = pl.Series("part", entries["part"], dtype=pl.UInt32)
            if name == "days":
                frame = pl.DataFrame(
                    {"part": part, "day": entries["extra"].view("<i4"), "h": entries["key"]},
                    schema={"part": pl.UInt32, "day": pl.Int64, "h": pl.UInt64},
                )
                out[name] = frame.group_by("part", "day").agg("h")
                continue
            keys: dict[str, pl.Series]
            if texts is not None:
                keys = {"key": pl.Series("key", texts, dtype=pl.String)}
            elif name == "hours":
                keys = {"hour": pl.Series("hour", entries["key"].view("<i8"), dtype=pl.Int64)}
            else:
                keys = {"status": pl.Series("status", entries["key"].view("<i8"), dtype=pl.Int64)}
            if name == "paths":
                keys["missing"] = pl.Series("missing", entries["extra"] == 1, dtype=pl.Boolean)
            elif name == "agents":
                keys["batch"] = pl.Series("batch", entries["extra"], dtype=pl.UInt32)
            out[name] = pl.DataFrame({"part": part, **keys, **sums})
        return out


_AGGS = {
    "hits": pl.len().cast(pl.Int64),
    "bytes": pl.col("size").sum(),
    "served": pl.col("served").sum(),
    "timed": pl.col("served").count().cast(pl.Int64),
}


def _by_hash(frame: pl.LazyFrame, column: str, *extra: pl.Expr | str) -> pl.LazyFrame:
    """Rows of ``frame`` grouped by the hash of ``column``, each keyed by its first value; null keys
    left out, as the C tally leaves them."""
    hashed = frame.filter(pl.col(column).is_not_null())
    grouped = hashed.group_by("part", f"h_{column}", *extra).agg(key=pl.col(column).first(), **_AGGS)
    return grouped.drop(f"h_{column}")


class PolarsTally:
    """Holds the records and groups them with polars at :meth:`take` (each string column hashed once,
    so the group-bys read 64-bit integers)."""

    def __init__(self) -> None:
        self._held: list[pl.DataFrame] = []
        self._rows = 0

    def add(self, access: pl.DataFrame, part: int, batch: int) -> None:
        frame = pl.concat([access.select(*STRINGS), _inputs(access)], how="horizontal")
        self._held.append(frame.with_columns(part=pl.lit(part, pl.UInt32), batch=pl.lit(batch, pl.UInt32)))
        self._rows += len(access)

    def full(self) -> bool:
        return self._rows >= MAX_RECORDS

    def take(self) -> dict[str, pl.DataFrame]:
        held, self._held, self._rows = self._held, [], 0
        if not held:
            held = [PolarsTally._empty()]
        hashed = {f"h_{name}": pl.col(name).hash(SEED) for name in STRINGS}
        lazy = pl.concat(held).with_columns(**hashed).lazy()
        visitor = pl.col("h_client").fill_null(0) ^ (pl.col("h_agent").fill_null(0) * VISITOR_MIX)
        plans = {
            "paths": _by_hash(lazy, "path", (pl.col("status") == 404).alias("missing")),
            "referrers": _by_hash(lazy, "referer"),
            "clients": _by_hash(lazy, "client"),
            "agents": _by_hash(lazy, "agent", "batch"),
            "hours": lazy.filter(pl.col("hour").is_not_null()).group_by("part", "hour").agg(**_AGGS),
            "status": lazy.group_by("part", "status").agg(**_AGGS),
            "users": _by_hash(lazy, "user"),
            "vhosts": _by_hash(lazy, "vhost"),
            "methods": _by_hash(lazy, "method"),
            "sections": _by_hash(lazy, "section"),
            "section_errors": _by_hash(lazy.filter(pl.col("status") >= 400), "section"),
            "days": lazy.filter(pl.col("hour").is_not_null())
            .group_by("part", day=pl.col("hour") // 24)
            .agg(h=visitor.unique()),
        }
        return dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))

    @staticmethod
    def _empty() -> pl.DataFrame:
        strings = {name: pl.String for name in STRINGS}
        numbers = {"status": pl.Int64, "size": pl.Int64, "served": pl.Float64, "hour": pl.Int64}
        return pl.DataFrame(schema={**strings, **numbers, "part": pl.UInt32, "batch": pl.UInt32})
