"""The goaccess panels of the web page, each row with its hits, bandwidth and time served.

Requested files, static requests, not-found URLs, hosts, operating systems, browsers and bots, hits per
hour, referring sites and referrer URLs, status codes, remote users, and unique visitors per day (a
visitor is a client address with its user agent, as goaccess counts them; counted by a sketch per day).
Each panel keeps at most ``capacity`` rows (the least busy pooled as ``__other__``), so memory is
bounded whatever the input. Folded by a :class:`~loglens.sinks.panels.PanelSink`, in its own thread.

Records are buffered until there are :data:`BUFFER_ROWS` of them (or the panels are read), then
grouped by polars, a dozen group-bys in one call: each group-by costs about 2 ms whatever its size, so
grouping each 8,500-line batch apart took twice the CPU (bench/README.md). The grouped rows are kept as
frames until there are :data:`COMPACT_ROWS` of them, then summed in one group-by.
"""

from __future__ import annotations

import threading
from typing import Any

import polars as pl

from loglens.aggregate.breakdown import AgentFamilies
from loglens.aggregate.capped import OTHER
from loglens.aggregate.counters import valid_durations
from loglens.aggregate.distinct import SEED, HyperLogLog
from loglens.records import access_records

#: A request for a file with one of these extensions is a static request (the query removed).
STATIC_EXTENSIONS = "css js mjs map png jpg jpeg gif ico svg webp avif bmp woff woff2 ttf otf eot txt xml pdf"
STATIC_EXTENSIONS += " mp4 webm mp3 zip"
STATIC_PATTERN = rf"(?i)^[^?#]*\.({'|'.join(STATIC_EXTENSIONS.split())})([?#]|$)"
#: The host of a referrer URL: its referring site.
SITE_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)"
#: Days whose visitors are kept (a year), oldest dropped first.
MAX_DAYS = 366
#: Access records held before they are grouped.
BUFFER_ROWS = 32_768
#: The columns the panels read.
COLUMNS = ("ts", "client", "user", "path", "status", "bytes", "referer", "agent", "duration")
#: Rows, and frames, of batches a panel holds before it sums them (and pools what is past its capacity).
COMPACT_ROWS = 50_000
COMPACT_FRAMES = 100
#: The panels, in the page's order.
PANELS: tuple[str, ...] = (
    "visitors", "paths", "static", "not_found", "clients", "os", "browsers", "bots", "hours",
    "referring_sites", "referrers", "status", "users",
)  # fmt: skip
SCHEMA = {"key": pl.String, "hits": pl.Int64, "bytes": pl.Int64, "served": pl.Float64, "timed": pl.Int64}
SUMS = [pl.col(name).sum() for name in ("hits", "bytes", "served", "timed")]


class Rows:
    """Per key: hits, bytes, and the sum and count of durations; at most ``capacity`` keys."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.frame = pl.DataFrame(schema=SCHEMA)
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0

    def update(self, frame: pl.DataFrame) -> None:
        """Add a frame of ``(key, hits, bytes, served, timed)`` rows."""
        if frame.is_empty():
            return
        self._pending.append(frame.select(pl.col(name).cast(kind) for name, kind in SCHEMA.items()))
        self._pending_rows += len(frame)
        if self._pending_rows >= max(COMPACT_ROWS, self.capacity) or len(self._pending) >= COMPACT_FRAMES:
            self.compact()

    def compact(self) -> None:
        """Sum the pending rows in; past the capacity, pool the least busy keys (ties by key)."""
        if not self._pending:
            return
        summed = pl.concat([self.frame, *self._pending]).group_by("key").agg(SUMS)
        self._pending, self._pending_rows = [], 0
        if len(summed) > self.capacity:
            ranked = summed.sort(["hits", "key"], descending=[True, False])
            kept = ranked.filter(pl.col("key") != OTHER).head(self.capacity)
            rest = ranked.join(kept.select("key"), on="key", how="anti")
            pooled = rest.select(pl.lit(OTHER).alias("key"), *SUMS)
            summed = pl.concat([kept, pooled])
        self.frame = summed

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The busiest ``limit`` rows (ties by key): key, hits, bytes, mean time served."""
        self.compact()
        ranked = self.frame.sort(["hits", "key"], descending=[True, False]).head(limit)
        return [_row(*values) for values in ranked.iter_rows()]

    def by_key(self) -> dict[str, dict[str, Any]]:
        """Every row, by key."""
        self.compact()
        return {values[0]: _row(*values) for values in self.frame.iter_rows()}


def _row(key: str, hits: int, size: int, served: float, timed: int) -> dict[str, Any]:
    mean = round(served / timed, 6) if timed else None
    return {"key": key, "hits": int(hits), "bytes": int(size), "mean_seconds": mean}


def _agg(frame: pl.LazyFrame, key: pl.Expr) -> pl.LazyFrame:
    """``(key, hits, bytes, served, timed)`` of the rows with a non-null ``key``."""
    keyed = frame.with_columns(key.alias("key")).filter(pl.col("key").is_not_null())
    return keyed.group_by("key").agg(
        hits=pl.len(),
        bytes=pl.col("bytes").clip(lower_bound=0).sum(),
        served=pl.col("served").sum(),
        timed=pl.col("served").is_not_null().sum(),
    )


def _regroup(agg: pl.LazyFrame, key: pl.Expr) -> pl.LazyFrame:
    """Rows of an aggregate grouped again, by ``key`` of their key (sites of referrers, days of epochs)."""
    return agg.with_columns(key.alias("key")).filter(pl.col("key").is_not_null()).group_by("key").agg(SUMS)


class WebPanels:
    """Every panel of :data:`PANELS` over the access records seen; read under :attr:`lock`."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.panels: dict[str, Rows] = {name: Rows(capacity) for name in PANELS}
        self.panels["hours"] = Rows(24)
        self.days: dict[str, HyperLogLog] = {}
        self._agents = AgentFamilies(capacity, os=True)
        self._buffer: list[pl.DataFrame] = []
        self._buffered = 0
        self.lock = threading.Lock()

    def update(self, records: pl.DataFrame) -> None:
        """Take in a batch's records (non-access records are ignored); fold once enough are held."""
        access = access_records(records)
        if access.is_empty():
            return
        with self.lock:
            self._buffer.append(access.select(*COLUMNS, batch=pl.lit(len(self._buffer), pl.UInt32)))
            self._buffered += len(access)
            if self._buffered >= BUFFER_ROWS:
                self._fold()

    def _fold(self) -> None:
        """Group the held records into the panels (under the lock)."""
        if not self._buffer:
            return
        access = pl.concat(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        self._buffer, self._buffered = [], 0
        lazy = access.lazy().with_columns(served=valid_durations(pl.col("duration")))
        paths = _agg(lazy, pl.col("path"))
        referrers = _agg(lazy, pl.col("referer"))
        key = pl.col("key")
        agents = (
            lazy.filter(pl.col("agent").is_not_null())
            .group_by("batch", "agent")
            .agg(
                count=pl.len(),
                bytes=pl.col("bytes").clip(lower_bound=0).sum(),
                served=pl.col("served").sum(),
                timed=pl.col("served").is_not_null().sum(),
            )
        )
        frames = {
            "paths": paths,
            "static": paths.filter(key.str.contains(STATIC_PATTERN)),
            "not_found": _agg(lazy.filter(pl.col("status") == 404), pl.col("path")),
            "clients": _agg(lazy, pl.col("client")),
            "hours": _agg(lazy, pl.col("ts").dt.hour()).with_columns(key.cast(pl.String).str.zfill(2)),
            "referring_sites": _regroup(referrers, key.str.extract(SITE_PATTERN, 1)),
            "referrers": referrers,
            "status": _agg(lazy, pl.col("status")).with_columns(key.cast(pl.String)),
            "users": _agg(lazy, pl.col("user")),
            "visitors": _agg(lazy, pl.col("ts").dt.date()).with_columns(key.cast(pl.String)),
            "agents": agents,
            "days": lazy.filter(pl.col("ts").is_not_null()).select(
                day=pl.col("ts").dt.date(),
                h=pl.concat_str(
                    pl.col("client").fill_null(""), pl.col("agent").fill_null(""), separator="|"
                ).hash(SEED),
            ),
        }
        folded = dict(zip(frames, pl.collect_all(list(frames.values())), strict=True))
        for name in PANELS:
            if name not in ("os", "browsers", "bots"):
                self.panels[name].update(folded[name])
        # Agents are classified batch by batch, in order, as the report's panels are: the same budget of
        # new agents per batch, so both name the same families.
        for _batch, part in sorted(folded["agents"].partition_by("batch", as_dict=True).items()):
            self._fold_agents(part.drop("batch"))
        self._fold_days(folded["days"])

    def _fold_agents(self, counts: pl.DataFrame) -> None:
        rows: dict[str, list[tuple[Any, ...]]] = {"browsers": [], "bots": [], "os": []}
        for family, system, _count, is_bot, row in self._agents.classify_rows(counts):
            _agent, hits, size, served, timed, _bot = row
            rows["bots" if is_bot else "browsers"].append((family, hits, size, served, timed))
            if not is_bot:
                rows["os"].append((system, hits, size, served, timed))
        for name, listed in rows.items():
            if listed:
                self.panels[name].update(pl.DataFrame(listed, schema=SCHEMA, orient="row"))

    def _fold_days(self, days: pl.DataFrame) -> None:
        for (day,), part in days.partition_by("day", as_dict=True).items():
            name = str(day)
            sketch = self.days.get(name)
            if sketch is None:
                if len(self.days) >= MAX_DAYS:
                    oldest = min(self.days)
                    if name < oldest:
                        continue
                    del self.days[oldest]
                sketch = self.days[name] = HyperLogLog()
            sketch.add_hashes(part["h"].to_numpy())

    def snapshot(self, limit: int) -> dict[str, list[dict[str, Any]]]:
        """Each panel's top ``limit`` rows; hours all 24, by hour; days newest first, with their visitors."""
        with self.lock:
            self._fold()
            listed = [name for name in self.panels if name not in ("visitors", "hours")]
            out = {name: self.panels[name].top(limit) for name in listed}
            out["hours"] = sorted(self.panels["hours"].top(24), key=lambda row: row["key"])
            days = sorted(self.panels["visitors"].by_key().values(), key=lambda row: row["key"], reverse=True)
            out["visitors"] = [
                {**row, "visitors": self.days[row["key"]].count() if row["key"] in self.days else 0}
                for row in days[:limit]
            ]
        return out
