"""A user metric's rule as polars expressions: the lines of a batch it matches, their labels and values.

A rule with only ``match`` (and labels and value from its groups) runs over every raw line, parsed or
not, as mtail does; one that names ``where`` or a record field runs over the parsed records, and its
regex over their raw lines. Either way the regex runs once over the batch (``str.extract_groups``,
the whole pattern wrapped in one more group so that a line without a match is null), or as
``str.contains`` when no group is used.
"""

from __future__ import annotations

import polars as pl

from loglens.alerts.rules import select
from loglens.metrics.config import MATCH_GROUP, MetricConfig, regex_groups
from loglens.metrics.literal import required_literal
from loglens.records import Batch

#: Prefix of group columns, so that a group named like a field (``status``) does not hide it.
_GROUP = "group:"
#: The column of a raw line's index in its batch (for ``--explain``).
LINE = "__line"
#: The column of the value.
VALUE = "__value"


def _field(name: str, source: str) -> pl.Expr:
    """A record field as a label value (String, empty when the record has none)."""
    if name == "source":
        return pl.lit(source)
    if name == "kind":
        return pl.when(pl.col("status").is_not_null()).then(pl.lit("access")).otherwise(pl.lit("application"))
    return pl.col(name).cast(pl.String).fill_null("")


class CompiledMetric:
    """One rule, ready to select from batches."""

    def __init__(self, config: MetricConfig) -> None:
        self.config = config
        self.groups = set(regex_groups(config.match)) if config.match is not None else set()
        used = [*config.labels, *([config.value] if config.value is not None else [])]
        self.fields = [name for name in used if name not in self.groups]
        self.on_records = config.where is not None or bool(self.fields)
        self.extract = any(name in self.groups for name in used)
        self.literal = required_literal(config.match) if config.match is not None else None

    def applies_to(self, source: str) -> bool:
        """Whether lines of ``source`` can count."""
        where = self.config.where
        if self.config.sources and source not in self.config.sources:
            return False
        return where is None or where.source is None or where.source == source

    def observations(self, batch: Batch) -> pl.LazyFrame | None:
        """The query of the matching lines of ``batch``, in line order: one String column per label,
        the value (``__value``, Float64, finite) when the rule has one, and the raw line's index
        (``__line``). None when no line of ``batch`` can match."""
        if not self.applies_to(batch.source):
            return None
        frame = self._records(batch) if self.on_records else self._raw(batch)
        if frame is None:
            return None
        config = self.config
        columns = [
            (
                pl.col(_GROUP + name).fill_null("") if name in self.groups else _field(name, batch.source)
            ).alias(name)
            for name in config.labels
        ]
        if config.value is not None:
            column = _GROUP + config.value if config.value in self.groups else config.value
            columns.append(pl.col(column).cast(pl.Float64, strict=False).alias(VALUE))
        columns.append(pl.col(LINE))
        out = frame.select(columns)
        if config.value is not None:
            value = pl.col(VALUE)
            keep = value.is_finite() & ((value >= 0) if config.type == "counter" else pl.lit(True))
            out = out.filter(keep.fill_null(False))
        return out

    def _raw(self, batch: Batch) -> pl.LazyFrame | None:
        return None if batch.raw.is_empty() else self._matched(batch.raw)

    def _records(self, batch: Batch) -> pl.LazyFrame | None:
        frame = batch.records
        where = self.config.where
        if where is not None:
            selected = select(frame, where, batch.source)
            if selected is None:
                return None
            frame = selected
            if where.kind is not None:
                frame = frame.filter(pl.col("status").is_not_null() == (where.kind == "access"))
        if frame.is_empty() or self.config.match is None:
            return frame.lazy().rename({"line": LINE})
        matched = self._matched(batch.raw.gather(frame["line"]))
        if matched is None:
            return None
        found = matched.collect()
        rows = frame[found[LINE]].rename({"line": LINE})
        groups = found.drop(LINE)
        return (pl.concat([rows, groups], how="horizontal") if groups.width else rows).lazy()

    def _matched(self, text: pl.Series) -> pl.LazyFrame:
        """The lines of ``text`` the regex matches: their index (``__line``) and, when used, groups.

        One query (collected by the caller) rather than a frame per step: a batch is a few thousand
        lines, where each collect's own cost is a good part of the regex's.
        """
        pattern = self.config.match
        lines = text.to_frame("text").lazy().with_row_index(LINE)
        if pattern is None:
            return lines.select(LINE)
        if self.literal is not None:
            lines = lines.filter(pl.col("text").str.contains(self.literal, literal=True))
        if not self.extract:
            return lines.filter(pl.col("text").str.contains(pattern)).select(LINE)
        names = regex_groups(pattern)
        groups = pl.col("text").str.extract_groups(f"(?P<{MATCH_GROUP}>{pattern})")
        return (
            lines.select(pl.col(LINE), groups.alias("groups"))
            .filter(pl.col("groups").struct.field(MATCH_GROUP).is_not_null())
            .select(
                pl.col(LINE),
                *(pl.col("groups").struct.field(name).alias(_GROUP + name) for name in names),
            )
        )
