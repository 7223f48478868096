"""The goaccess panels of the web page, per source, each row with its hits, bandwidth and time served.

Requested files, static requests, not-found URLs, hosts, operating systems, browsers and bots, hits per
hour, referring sites and referrer URLs, status codes, virtual hosts, remote users, and unique visitors
per day (a visitor is a client address with its user agent, as goaccess counts them; counted by a
sketch per day). Each source keeps its own panels, and, given a clock, so does each of its last
minutes, for the page's time ranges; every panel keeps at most ``capacity`` rows (the least busy
pooled as ``__other__``), so memory is bounded whatever the input. Folded by a
:class:`~loglens.sinks.panels.PanelSink`, in its own thread.

Each batch is counted into a tally (:mod:`~loglens.aggregate.tally`, in C when it is built) as it
comes; the tally's groupings are folded into the panels once it is full, and whenever the panels are
read or saved.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from loglens.aggregate.breakdown import AgentFamilies
from loglens.aggregate.capped import OTHER
from loglens.aggregate.panel_rows import CASTS, SCHEMA, SUMS, pooled, top
from loglens.aggregate.source_panels import PANELS, SUMMARY_PANELS, SourcePanels
from loglens.aggregate.tally import COLUMNS, new_tally
from loglens.records import HTTP_METHODS, OTHER_METHOD, access_records

#: A request for a file with one of these extensions is a static request (the query removed).
STATIC_EXTENSIONS = "css js mjs map png jpg jpeg gif ico svg webp avif bmp woff woff2 ttf otf eot txt xml pdf"
STATIC_EXTENSIONS += " mp4 webm mp3 zip"
STATIC_PATTERN = rf"(?i)^[^?#]*\.({'|'.join(STATIC_EXTENSIONS.split())})([?#]|$)"
#: The host of a referrer URL: its referring site.
SITE_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)"
#: Seconds of minutes kept for the time ranges (the windows' own keep).
RANGE_SECONDS = 600

_KEY = pl.col("key")
SCHEMA_SUMS = ("bytes", "served", "timed")
#: The columns of an agent's counts, in the order classify_rows hands them back.
BY_AGENT = ("agent", "count", *SCHEMA_SUMS, "part")


def _keyed(frame: pl.LazyFrame, panel: str, key: pl.Expr) -> pl.LazyFrame:
    """``(panel, part, key, sums)`` of an aggregate's rows, keyed by ``key`` of them, typed alike."""
    keyed = frame.with_columns(key.cast(pl.String).alias("key"))
    return keyed.select(pl.lit(panel).alias("panel"), "part", *CASTS)


def _panel_rows(got: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Each panel's rows (``part``, then a panel's columns) from a tally's groupings: every panel in one
    group-by (a polars call costs about as much as one of these small group-bys)."""
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
        _keyed(
            got["methods"],
            "methods",
            pl.when(_KEY.is_in(HTTP_METHODS)).then(_KEY).otherwise(pl.lit(OTHER_METHOD)),
        ),
        _keyed(got["sections"], "sections", _KEY),
        _keyed(got["section_errors"], "section_errors", _KEY),
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
    named = (*PANELS, *SUMMARY_PANELS)
    return {name: split.get((name,), empty) for name in named if name not in ("browsers", "bots", "os")}


@dataclass
class RangeSummary:
    """A source's records over a time range: lines; per status code its hits, bytes, seconds served and
    how many were timed; hits per method; per section its hits and 4xx/5xx; levels; distinct clients
    and users (None past the panels' capacity, where keys are pooled)."""

    lines: int
    status: dict[int, tuple[int, int, float, int]]
    methods: dict[str, int]
    sections: dict[str, tuple[int, int]]
    levels: dict[str, int]
    clients: int | None
    users: int | None


def _distinct(rows: pl.DataFrame) -> int | None:
    """How many keys ``rows`` has; None when some were pooled as ``__other__``."""
    return None if (rows["key"] == OTHER).any() else len(rows)


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
        self._tally = new_tally()
        #: The parts (source, minute) and batches of the records in the tally, numbered from 0.
        self._parts: dict[tuple[str, int], int] = {}
        self._batches = 0
        self.lock = threading.Lock()

    def update(self, records: pl.DataFrame, source: str = "") -> None:
        """Count a batch's records (non-access records are ignored); fold once the tally is full."""
        access = access_records(records)
        minute = int(self._clock() // 60) if self._clock is not None else 0
        with self.lock:
            if self._clock is not None:
                self._minute((source, minute)).count_lines(records)
            if access.is_empty():
                return
            part = self._parts.setdefault((source, minute), len(self._parts))
            self._tally.add(access.select(*COLUMNS), part, self._batches)
            self._batches += 1
            self.vhosts = self.vhosts or access["vhost"].null_count() < len(access)
            if self._tally.full():
                self._fold()

    def _fold(self) -> None:
        """Fold the tally's groupings into the panels (under the lock)."""
        if not self._parts:
            return
        tags = list(self._parts)
        self._parts, self._batches = {}, 0
        got = self._tally.take()
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
                        rows = target.panels.get(name)  # a source keeps no SUMMARY_PANELS
                        if rows is not None:
                            rows.update(part)
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
            panels = self.minutes[tag] = SourcePanels(self.capacity, (*PANELS, *SUMMARY_PANELS))
        return panels

    def _chosen(self, source: str | None, range_seconds: int | None) -> list[SourcePanels]:
        """The panels of ``source`` (none: every source) over the last ``range_seconds`` by whole
        minutes (none: since the start), under the lock."""
        if range_seconds is not None and self._clock is not None:
            first = int(self._clock() // 60) - math.ceil(range_seconds / 60) + 1
            return [
                p for (name, minute), p in self.minutes.items() if minute >= first and source in (None, name)
            ]
        return [panels for name, panels in self.sources.items() if source in (None, name)]

    def _summed(self, chosen: list[SourcePanels], names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
        """The rows of each of ``names`` over ``chosen``, summed (under the lock)."""
        frames = {name: [p.panels[name].summed() for p in chosen] for name in names}
        return {
            name: pooled(pl.concat(listed), self.capacity) if listed else pl.DataFrame(schema=SCHEMA)
            for name, listed in frames.items()
        }

    def snapshot(
        self, limit: int, source: str | None = None, range_seconds: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Each panel's top ``limit`` rows, of ``source`` (none: every source) over the last
        ``range_seconds`` (by whole minutes; none: since the start); hours all 24, by hour; days newest
        first, with their visitors."""
        with self.lock:
            self._fold()
            chosen = self._chosen(source, range_seconds)
            summed = self._summed(chosen, PANELS)
            visitors = SourcePanels.merged_visitors(chosen)
        out = {name: top(frame, limit) for name, frame in summed.items() if name not in ("visitors", "hours")}
        out["hours"] = sorted(top(summed["hours"], 24), key=lambda row: row["key"])
        days = sorted(top(summed["visitors"], len(summed["visitors"])), key=lambda r: r["key"], reverse=True)
        out["visitors"] = [{**row, "visitors": visitors.get(row["key"], 0)} for row in days[:limit]]
        return out

    def range_summary(self, source: str, range_seconds: int) -> RangeSummary:
        """What ``source`` logged over the last ``range_seconds``, by whole minutes (the windows, which
        answer a range for every source, hold no source apart)."""
        with self.lock:
            self._fold()
            chosen = self._chosen(source, range_seconds)
            summed = self._summed(chosen, ("status", *SUMMARY_PANELS, "clients", "users"))
            lines = sum(p.lines for p in chosen)
            levels: Counter[str] = Counter()
            for panels in chosen:
                levels.update(panels.levels)
        status = {
            int(key): (hits, size, served, timed)
            for key, hits, size, served, timed in summed["status"].rows()
        }
        errors = dict(summed["section_errors"].select("key", "hits").rows())
        return RangeSummary(
            lines=lines,
            status=status,
            methods=dict(summed["methods"].select("key", "hits").rows()),
            sections={
                key: (hits, errors.get(key, 0))
                for key, hits in summed["sections"].select("key", "hits").rows()
            },
            levels=dict(levels),
            clients=_distinct(summed["clients"]),
            users=_distinct(summed["users"]),
        )

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
