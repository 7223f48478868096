"""The goaccess panels of the web page, each row with its hits, bandwidth and time served.

Requested files, static requests, not-found URLs, hosts, operating systems, browsers and bots, hits per
hour, referring sites and referrer URLs, status codes, remote users, and unique visitors per day (a
visitor is a client address with its user agent, as goaccess counts them; counted by a sketch per day).
Each panel keeps at most ``capacity`` rows (the rest pooled as ``__other__``), so memory is bounded
whatever the input. Folded by a :class:`~loglens.sinks.panels.PanelSink`, in its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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
STATIC_PATTERN = rf"(?i)\.({'|'.join(STATIC_EXTENSIONS.split())})$"
#: The host of a referrer URL: its referring site.
SITE_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)"
#: Days whose visitors are kept (a year), oldest dropped first.
MAX_DAYS = 366
#: The panels, in the page's order, with what each row is keyed by.
PANELS: tuple[str, ...] = (
    "visitors", "paths", "static", "not_found", "clients", "os", "browsers", "bots", "hours",
    "referring_sites", "referrers", "status", "users",
)  # fmt: skip


class Rows:
    """Per key: hits, bytes, and the sum and count of durations; at most ``capacity`` keys."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.rows: dict[str, list[float]] = {}

    def add(self, key: str, hits: int, size: int, served: float, timed: int) -> None:
        """Add to ``key``'s row (to ``__other__`` once full)."""
        if key not in self.rows and len(self.rows) >= self.capacity:
            key = OTHER
        row = self.rows.setdefault(key, [0, 0, 0.0, 0])
        row[0] += hits
        row[1] += size
        row[2] += served
        row[3] += timed

    def update(self, frame: Iterable[tuple[Any, ...]]) -> None:
        """Add ``(key, hits, bytes, served, timed)`` rows."""
        for key, hits, size, served, timed in frame:
            self.add(str(key), hits, size or 0, served or 0.0, timed)

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The busiest ``limit`` rows (ties by key): key, hits, bytes, mean time served."""
        ranked = sorted(self.rows.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [_row(key, values) for key, values in ranked]


def _row(key: str, values: list[float]) -> dict[str, Any]:
    hits, size, served, timed = values
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


class WebPanels:
    """Every panel of :data:`PANELS` over the access records seen; read under :attr:`lock`."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.panels: dict[str, Rows] = {name: Rows(capacity) for name in PANELS}
        self.panels["hours"] = Rows(24)
        self.panels["status"] = Rows(min(capacity, 1000))
        self.days: dict[str, HyperLogLog] = {}
        self._agents = AgentFamilies(capacity, os=True)
        self.lock = threading.Lock()

    def update(self, records: pl.DataFrame) -> None:
        """Fold in a batch's records (non-access records are ignored)."""
        access = access_records(records)
        if access.is_empty():
            return
        lazy = access.lazy().with_columns(served=valid_durations(pl.col("duration")))
        bare = pl.col("path").str.replace(r"[?#].*$", "")
        keys = {
            "paths": pl.col("path"),
            "static": pl.when(bare.str.contains(STATIC_PATTERN)).then(pl.col("path")),
            "not_found": pl.when(pl.col("status") == 404).then(pl.col("path")),
            "clients": pl.col("client"),
            "hours": pl.col("ts").dt.hour().cast(pl.String).str.zfill(2),
            "referring_sites": pl.col("referer").str.extract(SITE_PATTERN, 1),
            "referrers": pl.col("referer"),
            "status": pl.col("status").cast(pl.String),
            "users": pl.col("user"),
            "visitors": pl.col("ts").dt.strftime("%Y-%m-%d"),
            "agent": pl.col("agent"),
        }
        days = lazy.filter(pl.col("ts").is_not_null()).select(
            day=pl.col("ts").dt.strftime("%Y-%m-%d"),
            h=pl.concat_str(
                pl.col("client").fill_null(""), pl.col("agent").fill_null(""), separator="|"
            ).hash(SEED),
        )
        frames = pl.collect_all([_agg(lazy, key) for key in keys.values()] + [days])
        by_key = dict(zip(keys, frames, strict=False))
        with self.lock:
            for name, frame in by_key.items():
                if name != "agent":
                    self.panels[name].update(frame.iter_rows())
            self._fold_agents(by_key["agent"])
            self._fold_days(frames[-1])

    def _fold_agents(self, agents: pl.DataFrame) -> None:
        counts = agents.rename({"key": "agent", "hits": "count"})
        for family, system, _count, is_bot, row in self._agents.classify_rows(counts):
            _agent, hits, size, served, timed, _bot = row
            self.panels["bots" if is_bot else "browsers"].add(family, hits, size or 0, served or 0.0, timed)
            if not is_bot:
                self.panels["os"].add(system, hits, size or 0, served or 0.0, timed)

    def _fold_days(self, days: pl.DataFrame) -> None:
        for (day,), part in days.partition_by("day", as_dict=True).items():
            sketch = self.days.get(day)
            if sketch is None:
                if len(self.days) >= MAX_DAYS:
                    oldest = min(self.days)
                    if day < oldest:
                        continue
                    del self.days[oldest]
                sketch = self.days[day] = HyperLogLog()
            sketch.add_hashes(part["h"].to_numpy())

    def snapshot(self, limit: int) -> dict[str, list[dict[str, Any]]]:
        """Each panel's top ``limit`` rows; visitors (per day, newest first) with their unique count."""
        with self.lock:
            out = {name: rows.top(limit) for name, rows in self.panels.items() if name != "visitors"}
            out["hours"] = self.panels["hours"].top(24)  # the whole day, whatever the limit
            visitors = self.panels["visitors"]
            days = sorted(visitors.rows.items(), key=lambda kv: kv[0], reverse=True)[:limit]
            out["visitors"] = [
                {**_row(day, values), "visitors": self.days[day].count() if day in self.days else 0}
                for day, values in days
            ]
            out["hours"] = sorted(out["hours"], key=lambda row: row["key"])
        return out
