"""The goaccess panels of the web page, per source, each row with its hits, bandwidth and time served.

Requested files, static requests, not-found URLs, hosts, operating systems, browsers and bots, hits per
hour, referring sites and referrer URLs, status codes, virtual hosts, remote users, and unique visitors
per day (a visitor is a client address with its user agent, as goaccess counts them; counted by a
sketch per day). Each source keeps its own panels, and, given a clock, so does each of its last
minutes, for the page's time ranges; every panel keeps at most ``capacity`` rows (the least busy
pooled as ``__other__``), so memory is bounded whatever the input. Folded by a
:class:`~loglens.sinks.panels.PanelSink`, in its own thread.

Records are buffered until there are :data:`BUFFER_ROWS` of them (or the panels are read), then
grouped by polars in one call. The string columns are grouped by their 64-bit hashes, each hashed
once, and each key's text is taken from its first row, which is cheaper than grouping by the text
(bench/README.md).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import polars as pl

from loglens.aggregate.breakdown import AgentFamilies
from loglens.aggregate.counters import valid_durations
from loglens.aggregate.distinct import SEED
from loglens.aggregate.panel_rows import CASTS, SCHEMA, SUMS, pooled, top
from loglens.aggregate.source_panels import PANELS, SourcePanels
from loglens.records import access_records

#: A request for a file with one of these extensions is a static request (the query removed).
STATIC_EXTENSIONS = "css js mjs map png jpg jpeg gif ico svg webp avif bmp woff woff2 ttf otf eot txt xml pdf"
STATIC_EXTENSIONS += " mp4 webm mp3 zip"
STATIC_PATTERN = rf"(?i)^[^?#]*\.({'|'.join(STATIC_EXTENSIONS.split())})([?#]|$)"
#: The host of a referrer URL: its referring site.
SITE_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)"
#: Access records held before they are grouped.
BUFFER_ROWS = 65_536
#: The columns the panels read.
COLUMNS = ("ts", "client", "user", "path", "status", "bytes", "referer", "agent", "duration", "vhost")
#: The string columns grouped by their hash.
HASHED = ("path", "referer", "client", "agent")
#: An odd constant the agent's hash is multiplied by before it is mixed with the client's (a visitor).
VISITOR_MIX = 0x9E3779B97F4A7C15
#: Seconds of minutes kept for the time ranges (the windows' own keep).
RANGE_SECONDS = 600

_KEY = pl.col("key")
SCHEMA_SUMS = ("bytes", "served", "timed")
#: The columns of an agent's counts, in the order classify_rows hands them back.
BY_AGENT = ("agent", "count", *SCHEMA_SUMS, "part")
_EMPTY_SUMS = {"hits": pl.UInt32, "bytes": pl.Int64, "served": pl.Float64, "timed": pl.UInt32}
_AGGS = {
    "hits": pl.len(),
    "bytes": pl.col("size").sum(),
    "served": pl.col("served").sum(),
    "timed": pl.col("served").count(),
}


def _by_hash(frame: pl.LazyFrame, column: str, *extra: pl.Expr) -> pl.LazyFrame:
    """Rows of ``frame`` grouped by the hash of ``column`` (``h_column``), each keyed by its first value."""
    return frame.group_by("part", f"h_{column}", *extra).agg(key=pl.col(column).first(), **_AGGS)


def _keyed(frame: pl.LazyFrame, panel: str, key: pl.Expr) -> pl.LazyFrame:
    """``(panel, part, key, sums)`` of an aggregate's rows, keyed by ``key`` of them, typed alike."""
    keyed = frame.with_columns(key.cast(pl.String).alias("key"))
    return keyed.select(pl.lit(panel).alias("panel"), "part", *CASTS)


def _grouped(access: pl.DataFrame) -> dict[str, pl.LazyFrame]:
    """The group-bys of the held records, by part: each string column hashed once, in one pass, so
    the group-bys read 64-bit integers."""
    timed = access["duration"].null_count() < len(access)
    lazy = access.with_columns(
        size=pl.col("bytes").clip(lower_bound=0),
        served=valid_durations(pl.col("duration")) if timed else pl.lit(None, pl.Float64),
        hour=pl.col("ts").dt.epoch("s") // 3600,
        **{f"h_{name}": pl.col(name).hash(SEED) for name in HASHED},
    ).lazy()
    grouped = {
        "paths": _by_hash(lazy, "path", (pl.col("status") == 404).alias("missing")),
        "referrers": _by_hash(lazy, "referer"),
        "clients": _by_hash(lazy, "client"),
        "agents": _by_hash(lazy, "agent", pl.col("batch")).filter(_KEY.is_not_null()),
        "hours": lazy.group_by("part", "hour").agg(**_AGGS),
        "status": lazy.group_by("part", "status").agg(**_AGGS),
        "users": lazy.group_by("part", "user").agg(key=pl.col("user").first(), **_AGGS),
        "days": lazy.filter(pl.col("hour").is_not_null())
        .group_by("part", day=pl.col("hour") // 24)
        .agg(h=(pl.col("h_client") ^ (pl.col("h_agent") * VISITOR_MIX)).unique()),
        "vhosts": lazy.group_by("part", "vhost").agg(key=pl.col("vhost").first(), **_AGGS),
    }
    if access["vhost"].null_count() == len(access):  # most formats have none: no group-by
        grouped["vhosts"] = pl.LazyFrame(schema={"part": pl.UInt32, "key": pl.String, **_EMPTY_SUMS})
    return grouped


def _panel_rows(got: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Each panel's rows (``part``, then a panel's columns) from the group-bys of :func:`_grouped`: every
    panel in one group-by (a polars call costs about as much as one of these small group-bys)."""
    paths, referrers, hours = got["paths"], got["referrers"], got["hours"]
    epoch = pl.from_epoch(pl.col("hour") * 3600, time_unit="s")
    plans = [
        _keyed(paths, "paths", _KEY),
        _keyed(paths.filter(_KEY.str.contains(STATIC_PATTERN)), "static", _KEY),
        _keyed(paths.filter(pl.col("missing")), "not_found", _KEY),
        _keyed(got["clients"], "clients", _KEY),
        _keyed(hours, "hours", (pl.col("hour") % 24).cast(pl.String).str.zfill(2)),
        _keyed(referrers, "referring_sites", _KEY.str.extract(SITE_PATTERN, 1)),
        _keyed(referrers, "referrers", _KEY),
        _keyed(got["status"], "status", pl.col("status")),
        _keyed(got["users"], "users", _KEY),
        _keyed(got["vhosts"], "vhosts", _KEY),
        _keyed(hours, "visitors", epoch.dt.date()),
    ]
    rows = (
        pl.concat(plans)
        .filter(_KEY.is_not_null())
        .group_by("panel", "part", "key")
        .agg(SUMS)
        .select("panel", "part", *CASTS)
        .collect()
    )
    split = rows.partition_by("panel", as_dict=True, include_key=False)
    empty = pl.DataFrame(schema={"part": pl.UInt32, **SCHEMA})
    return {name: split.get((name,), empty) for name in PANELS if name not in ("browsers", "bots", "os")}


def _by_part(frame: pl.DataFrame, parts: int) -> dict[int, pl.DataFrame]:
    """A panel's rows per part, without the ``part`` column."""
    if parts == 1:
        return {0: frame.drop("part")}
    split = frame.partition_by("part", as_dict=True, include_key=False)
    return {int(key[0]): rows for key, rows in split.items()}


class WebPanels:
    """Every panel of :data:`PANELS` over the access records seen, per source; read under :attr:`lock`.

    Args:
        capacity: rows each panel keeps at most.
        clock: seconds now (the runtime's clock), to keep each minute apart for the time ranges; none
            (a report): no ranges.
    """

    def __init__(self, capacity: int = 1000, clock: Callable[[], float] | None = None) -> None:
        self.capacity = capacity
        self.sources: dict[str, SourcePanels] = {}
        #: Per (source, minute since the epoch): the panels of that minute, the last ten kept.
        self.minutes: dict[tuple[str, int], SourcePanels] = {}
        self.vhosts = False
        self._clock = clock
        self._agents = AgentFamilies(capacity, os=True)
        self._buffer: list[pl.DataFrame] = []
        self._tags: list[tuple[str, int]] = []
        self._buffered = 0
        self.lock = threading.Lock()

    def update(self, records: pl.DataFrame, source: str = "") -> None:
        """Take in a batch's records (non-access records are ignored); fold once enough are held."""
        access = access_records(records)
        if access.is_empty():
            return
        minute = int(self._clock() // 60) if self._clock is not None else 0
        with self.lock:
            self._buffer.append(access.select(*COLUMNS))
            self._tags.append((source, minute))
            self._buffered += len(access)
            self.vhosts = self.vhosts or access["vhost"].null_count() < len(access)
            if self._buffered >= BUFFER_ROWS:
                self._fold()

    def _fold(self) -> None:
        """Group the held records into the panels (under the lock)."""
        if not self._buffer:
            return
        tags = list(dict.fromkeys(self._tags))
        ids = {tag: index for index, tag in enumerate(tags)}
        parts = [
            frame.with_columns(part=pl.lit(ids[tag], pl.UInt32), batch=pl.lit(number, pl.UInt32))
            for number, (frame, tag) in enumerate(zip(self._buffer, self._tags, strict=True))
        ]
        self._buffer, self._tags, self._buffered = [], [], 0
        access = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
        grouped = _grouped(access)
        got = dict(zip(grouped, pl.collect_all(list(grouped.values())), strict=True))
        folded = _panel_rows({name: frame.lazy() for name, frame in got.items()})
        folded.update(self._agent_rows(got["agents"]))
        by_part = {name: _by_part(frame, len(tags)) for name, frame in folded.items()}
        days = got["days"]
        for index, tag in enumerate(tags):
            targets = [self._panels_of(tag)]
            if self._clock is not None:
                targets.append(self._minute(tag))
            for name, frames in by_part.items():
                part = frames.get(index)
                if part is not None:
                    for target in targets:
                        target.panels[name].update(part)
            for day, hashes in days.filter(pl.col("part") == index).select("day", "h").iter_rows():
                for target in targets:
                    target.add_visitors(int(day), hashes)

    def _agent_rows(self, agents: pl.DataFrame) -> dict[str, pl.DataFrame]:
        """The browsers, bots and operating systems of each part's user agents (ua-parser, cached)."""
        rows: dict[str, list[tuple[Any, ...]]] = {"browsers": [], "bots": [], "os": []}
        counts = agents.select(
            "batch", agent="key", count="hits", bytes="bytes", served="served", timed="timed", part="part"
        )
        if self._agents.knows(counts["agent"].unique()):  # nothing new: one pass over the whole fold
            batches = [
                counts.group_by("agent", "part").agg(pl.col("count", *SCHEMA_SUMS).sum()).select(*BY_AGENT)
            ]
        else:
            # Classified batch by batch, in order, as the report's panels are: the same budget of new
            # agents per batch, so both name the same families.
            split = counts.partition_by("batch", as_dict=True, include_key=False)
            batches = [part.select(*BY_AGENT) for _key, part in sorted(split.items())]
        for batch in batches:
            for family, system, _count, is_bot, row in self._agents.classify_rows(batch):
                _agent, hits, size, served, timed, part, _bot = row
                rows["bots" if is_bot else "browsers"].append((part, family, hits, size, served, timed))
                if not is_bot:
                    rows["os"].append((part, system, hits, size, served, timed))
        schema = {"part": pl.UInt32, **SCHEMA}
        return {
            name: pl.DataFrame(listed, schema=schema, orient="row")
            .group_by("part", "key")
            .agg(SUMS)
            .select("part", *CASTS)
            for name, listed in rows.items()
        }

    def _panels_of(self, tag: tuple[str, int]) -> SourcePanels:
        panels = self.sources.get(tag[0])
        if panels is None:
            panels = self.sources[tag[0]] = SourcePanels(self.capacity)
        return panels

    def _minute(self, tag: tuple[str, int]) -> SourcePanels:
        panels = self.minutes.get(tag)
        if panels is None:
            oldest = tag[1] - RANGE_SECONDS // 60
            for stale in [key for key in self.minutes if key[1] < oldest]:
                del self.minutes[stale]
            panels = self.minutes[tag] = SourcePanels(self.capacity)
        return panels

    def snapshot(
        self, limit: int, source: str | None = None, range_seconds: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Each panel's top ``limit`` rows, of ``source`` (none: every source) over the last
        ``range_seconds`` (by whole minutes; none: since the start); hours all 24, by hour; days newest
        first, with their visitors."""
        with self.lock:
            self._fold()
            if range_seconds is not None and self._clock is not None:
                first = int(self._clock() // 60) - math.ceil(range_seconds / 60) + 1
                chosen = [
                    panels
                    for (name, minute), panels in self.minutes.items()
                    if minute >= first and source in (None, name)
                ]
            else:
                chosen = [panels for name, panels in self.sources.items() if source in (None, name)]
            frames = {name: [p.panels[name].summed() for p in chosen] for name in PANELS}
            visitors = SourcePanels.merged_visitors(chosen)
        summed = {
            name: pooled(pl.concat(listed), self.capacity) if listed else pl.DataFrame(schema=SCHEMA)
            for name, listed in frames.items()
        }
        out = {name: top(frame, limit) for name, frame in summed.items() if name not in ("visitors", "hours")}
        out["hours"] = sorted(top(summed["hours"], 24), key=lambda row: row["key"])
        days = sorted(top(summed["visitors"], len(summed["visitors"])), key=lambda r: r["key"], reverse=True)
        out["visitors"] = [{**row, "visitors": visitors.get(row["key"], 0)} for row in days[:limit]]
        return out

    def to_state(self) -> dict[str, Any]:
        """Every source's panels, JSON-ready (the minutes are not kept, as the windows are not)."""
        with self.lock:
            self._fold()
            return {"sources": {name: panels.to_state() for name, panels in self.sources.items()}}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore the panels :meth:`to_state` saved (an empty state: nothing)."""
        with self.lock:
            for name, saved in state.get("sources", {}).items():
                panels = self.sources[name] = SourcePanels(self.capacity)
                panels.load_state(saved)
            self.vhosts = any(not p.panels["vhosts"].summed().is_empty() for p in self.sources.values())
