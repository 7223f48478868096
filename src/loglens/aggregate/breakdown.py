"""The per-visitor panels goaccess reports: top clients, not-found paths, referrers, browser and bot
families, and hits per hour of day. Used by ``loglens replay``; bounded like every other counter.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import polars as pl

from loglens.aggregate.capped import OTHER, CappedCounter
from loglens.records import access_records

BOT_PATTERN = (
    r"(?i)bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|pingdom|monitor|curl/|wget/|"
    r"python-|go-http|java/|libwww|httpclient|scrapy|okhttp|headless"
)
#: New user agents classified per batch; the rest of a batch's new agents count as ``Other``.
#: ua-parser takes about 0.6 ms an agent here, so this bounds the cost of adversarial input.
MAX_NEW_AGENTS_PER_BATCH = 200
UNCLASSIFIED = "Other"


def agent_family(agent: str) -> str:
    """Browser or bot family of a user agent (ua-parser), ``Other`` when unknown.

    ua-parser is imported here, not with the module: a replay without panels never loads it.
    """
    from ua_parser import parse_user_agent

    parsed = parse_user_agent(agent) if agent else None
    return parsed.family if parsed is not None else UNCLASSIFIED


#: A user agent parsed once at start, so ua-parser compiles its rules then.
WARM_UP_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _warm_up() -> None:
    from ua_parser import parse_os

    agent_family(WARM_UP_AGENT)
    parse_os(WARM_UP_AGENT)


def warm_up() -> None:
    """Have ua-parser compile its rules (it does on first use, bench/README.md) in a thread
    at start, while the first batch is still being read and parsed, not while the first agents are
    classified."""
    threading.Thread(target=_warm_up, name="loglens-ua-warmup", daemon=True).start()


class Breakdown:
    """Visitor panels over all access records seen."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.clients: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.not_found: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.referrers: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.browsers: Counter[str] = Counter()
        self.bots: Counter[str] = Counter()
        self.hours: Counter[int] = Counter()
        self._families = AgentFamilies(capacity)

    def update(self, records: pl.DataFrame, source: str = "") -> None:
        """Fold in a batch's records (non-access records are ignored; every source together)."""
        access = access_records(records)
        if access.is_empty():
            return
        self.clients.update(access["client"].drop_nulls().value_counts().iter_rows())
        missing = access.filter(pl.col("status") == 404)["path"].drop_nulls().value_counts()
        self.not_found.update(missing.iter_rows())
        self.referrers.update(access["referer"].drop_nulls().value_counts().iter_rows())
        hours = access["ts"].drop_nulls().dt.hour().value_counts()
        self.hours.update(dict(hours.iter_rows()))
        self._update_agents(access["agent"].drop_nulls())

    def _update_agents(self, agents: pl.Series) -> None:
        for family, count, is_bot in self._families.classify(agents.value_counts()):
            (self.bots if is_bot else self.browsers)[family] += count


class AgentFamilies:
    """Browser, bot and OS families of user agents, cached and bounded (ua-parser is slow)."""

    def __init__(self, capacity: int, os: bool = False) -> None:
        self._families: dict[str, tuple[str, str]] = {}
        self._capacity = capacity
        self._os = os

    def family(self, agent: str, budget: list[int]) -> tuple[str, str]:
        """``(family, os)`` of ``agent``; past the batch's ``budget`` of new agents, ``Other``."""
        known = self._families.get(agent)
        if known is not None:
            return known
        if budget[0] <= 0 or len(self._families) >= self._capacity:
            return UNCLASSIFIED, UNCLASSIFIED
        budget[0] -= 1
        system = UNCLASSIFIED
        if self._os and agent:
            from ua_parser import parse_os

            parsed = parse_os(agent)
            system = parsed.family if parsed is not None else UNCLASSIFIED
        known = self._families[agent] = (agent_family(agent), system)
        return known

    def knows(self, agents: pl.Series) -> bool:
        """Whether every one of ``agents`` is classified already (no budget is spent on them)."""
        return all(agent in self._families for agent in agents)

    def classify(self, counts: pl.DataFrame) -> Iterator[tuple[str, int, bool]]:
        """``(family, count, is_bot)`` of each row of ``counts`` (columns ``agent``, ``count``), the
        busiest agents classified first (ties by agent, so which ones fit the budget is reproducible)."""
        for family, _system, count, is_bot, _row in self.classify_rows(counts):
            yield family, count, is_bot

    def classify_rows(self, counts: pl.DataFrame) -> Iterator[tuple[str, str, int, bool, tuple[Any, ...]]]:
        """``(family, os, count, is_bot, row)`` of each row of ``counts`` (``agent``, ``count``, ...)."""
        ranked = counts.sort(["count", "agent"], descending=[True, False]).with_columns(
            bot=pl.col("agent").str.contains(BOT_PATTERN)
        )
        budget = [MAX_NEW_AGENTS_PER_BATCH]
        for row in ranked.iter_rows():
            family, system = self.family(row[0], budget)
            yield family, system, row[1], row[-1], row
