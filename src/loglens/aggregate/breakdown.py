"""The per-visitor panels goaccess reports: top clients, not-found paths, referrers, browser and bot
families, and hits per hour of day. Used by ``loglens replay``; bounded like every other counter.
"""

from __future__ import annotations

import threading
from collections import Counter

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


class Breakdown:
    """Visitor panels over all access records seen."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.clients: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.not_found: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.referrers: CappedCounter[str] = CappedCounter(capacity, OTHER)
        self.browsers: Counter[str] = Counter()
        self.bots: Counter[str] = Counter()
        self.hours: Counter[int] = Counter()
        self._families: dict[str, str] = {}
        self._families_capacity = capacity

    @staticmethod
    def warm_up() -> None:
        """Have ua-parser compile its rules (it does on first use) in a thread, while the first batch
        is still being read and parsed: that is mostly done without the GIL."""
        threading.Thread(target=agent_family, args=("",), name="loglens-ua-warmup", daemon=True).start()

    def update(self, records: pl.DataFrame) -> None:
        """Fold in a batch's records (non-access records are ignored)."""
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
        counts = agents.value_counts(sort=True).with_columns(bot=pl.col("agent").str.contains(BOT_PATTERN))
        budget = MAX_NEW_AGENTS_PER_BATCH
        for agent, count, is_bot in counts.iter_rows():
            family = self._families.get(agent)
            if family is None:
                if budget > 0 and len(self._families) < self._families_capacity:
                    family = self._families[agent] = agent_family(agent)
                    budget -= 1
                else:
                    family = UNCLASSIFIED
            (self.bots if is_bot else self.browsers)[family] += count
