"""The pattern detectors: the messages of application records (and the lines of no known format), mined
into templates as they arrive.

Each batch's messages go through one :class:`~loglens.patterns.TemplateMiner` (``add_many``: the masking
is one polars pass per batch), whatever their time: a line of a kind never seen is news even when it is
old. Once the miner has read ``pattern_warmup`` messages, a message that makes a template never seen
before is a ``new_pattern`` anomaly at the second it was read, with that message as its example. The
templates' counts per second of event time (of the records the windows keep) are series of the rate
detectors (``pattern:ID``, the first ``max_patterns`` templates that reach ``min_count``), so a template
whose rate jumps far above its own recent baseline is a ``pattern_rate`` anomaly.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import polars as pl

from loglens.patterns import TemplateMiner
from loglens.records import Batch

if TYPE_CHECKING:
    from loglens.anomaly.rates import RateDetectors

#: The prefix of a template's series among the rate detectors'.
PATTERN_SERIES = "pattern:"


class PatternMining:
    """Mines every batch's application messages and reports new templates to ``detectors``."""

    def __init__(self, detectors: RateDetectors) -> None:
        config = detectors.config
        self.detectors = detectors
        self.miner = TemplateMiner(max_templates=config.max_templates)
        self.warmup = config.pattern_warmup
        self.max_patterns = config.max_patterns
        self._tracked: set[int] = set()
        self._seen: Counter[int] = Counter()  # messages per template, until it is tracked
        self._templates: pl.DataFrame | None = None  # the last batch mined: line index, template id

    def mine(self, batch: Batch, second: int) -> None:
        """Mine one batch, read at ``second``: the messages of its application records (no status), and
        the whole lines no format read (``no_match``)."""
        records = batch.records
        apps = records.filter(pl.col("message").is_not_null() & pl.col("status").is_null())
        self._templates = None
        unknown: list[str] = []
        if batch.errors.get("no_match") and not batch.raw.is_empty():
            numbered = pl.DataFrame({"line": pl.int_range(batch.raw.len(), eager=True, dtype=pl.UInt32),
                                     "raw": batch.raw})  # fmt: skip
            unknown = numbered.join(records.select("line"), on="line", how="anti")["raw"].to_list()
        if apps.is_empty() and not unknown:
            return
        source = batch.source
        messages = apps["message"].to_list() + unknown
        before = self.miner.seen
        matches = self.miner.add_many(messages)
        for n in [n for n, match in enumerate(matches) if match.new and before + n >= self.warmup]:
            self.detectors.record("new_pattern", f"source:{source}", second, messages[n], matches[n].template)
        ids = pl.Series("template", [match.template_id for match in matches[: apps.height]], dtype=pl.Int64)
        self._templates = apps.select("line").with_columns(ids)

    def observe(self, frame: pl.DataFrame, source: str) -> None:
        """Count the templates of the kept records of the batch just mined, per second of event time."""
        if self._templates is None:
            return
        kept = frame.select("sec", "line").join(self._templates, on="line")
        for second, template, count in kept.group_by("sec", "template").len().iter_rows():
            if template in self._tracked:
                self.detectors.count(second, f"{PATTERN_SERIES}{template}", count)
            elif len(self._tracked) < self.max_patterns:
                self._seen[template] += count
                if self._seen[template] >= self.detectors.config.min_count:
                    self._tracked.add(template)
                    del self._seen[template]
        if len(self._tracked) >= self.max_patterns:
            self._seen.clear()  # no template will be tracked any more
        elif len(self._seen) > self.miner.max_templates:  # the rarest, most of them evicted by now
            self._seen = Counter(dict(self._seen.most_common(self.miner.max_templates)))

    def example(self, series: str) -> str | None:
        """The first message of the template of a ``pattern:ID`` series."""
        template = int(series.removeprefix(PATTERN_SERIES))
        found = next((t for t in self.miner.templates() if t.id == template), None)
        return found.example if found is not None else None

    def to_state(self) -> dict[str, Any]:
        """JSON-ready: the miner and the tracked templates."""
        return {"miner": self.miner.to_state(), "tracked": sorted(self._tracked)}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back :meth:`to_state`."""
        self.miner.restore(state["miner"])
        self._tracked = set(state["tracked"])
