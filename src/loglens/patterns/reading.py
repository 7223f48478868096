"""Mine whole inputs: every line read (as ``loglens replay`` reads it) goes to one miner.

What is kept while mining is bounded by the templates kept, not by the lines read: each batch's lines are
folded into per-template figures. The per-line output (``--output csv``) spills each line's template id
to a temporary file, and the merges and the texts of the templates forgotten to temporary SQLite tables.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import polars as pl

from loglens.patterns.miner import TemplateMiner
from loglens.patterns.templates import TemplateInfo
from loglens.records import Batch
from loglens.sources.replay_reader import ReplayReader

#: The per-template figures: lines, first and last line number, earliest and latest event time.
EVENT_TIME = pl.Datetime("us", "UTC")
STATS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "template_id": pl.Int64,
    "count": pl.Int64,
    "first_line": pl.Int64,
    "last_line": pl.Int64,
    "first_ts": EVENT_TIME,
    "last_ts": EVENT_TIME,
}
#: Line ids read back at a time when the per-line output is written.
CSV_ROWS = 1 << 20


@dataclass
class Mined:
    """The outcome of :func:`mine_files`.

    Attributes:
        lines: lines mined.
        stats: one row per template kept (:data:`STATS_SCHEMA`), ids after merges.
        texts: template id -> template, of those kept.
        examples: template id -> its first line (the whole line, as read), of those kept.
        miner: the miner, holding the templates kept.
    """

    lines: int
    stats: pl.DataFrame
    texts: dict[int, str]
    examples: dict[int, str]
    miner: TemplateMiner

    @property
    def templates_total(self) -> int:
        """The templates the lines went to, the forgotten ones included."""
        return self.miner.distinct


@dataclass
class _Spill:
    """Each line's template id at the time it was mined; every merge; the texts of forgotten templates.

    SQLite with no file name keeps its tables in a temporary file once they outgrow its page cache.
    """

    ids: IO[bytes] = field(default_factory=lambda: tempfile.TemporaryFile())  # noqa: SIM115
    db: sqlite3.Connection = field(default_factory=lambda: sqlite3.connect(""))

    def __post_init__(self) -> None:
        self.db.execute("CREATE TABLE forgotten (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        self.db.execute("CREATE TABLE merged (id INTEGER PRIMARY KEY, into_id INTEGER NOT NULL)")

    def forget(self, info: TemplateInfo) -> None:
        self.db.execute("INSERT OR REPLACE INTO forgotten VALUES (?, ?)", (info.id, info.template))

    def merge(self, old: int, new: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO merged VALUES (?, ?)", (old, new))

    def resolve(self, template_id: int) -> int:
        """The id ``template_id`` went by at the end."""
        while row := self.db.execute("SELECT into_id FROM merged WHERE id = ?", (template_id,)).fetchone():
            template_id = int(row[0])
        return template_id

    def text_of(self, template_id: int) -> str:
        row = self.db.execute("SELECT text FROM forgotten WHERE id = ?", (template_id,)).fetchone()
        return str(row[0]) if row else ""

    def close(self) -> None:
        self.ids.close()
        self.db.close()


def messages(batch: Batch) -> tuple[list[str], pl.Series]:
    """What is mined of each line of ``batch``: the ``message`` of a record that has one, else the whole
    line; and each line's event time (null where no record has one)."""
    texts: list[str] = batch.raw.to_list()
    times = pl.Series("ts", [None] * len(texts), dtype=batch.records.schema["ts"])
    records = batch.records
    if records.height:
        lines = records["line"]
        times = times.scatter(lines, records["ts"])
        with_message = records.filter(pl.col("message").is_not_null())
        pairs = zip(with_message["line"].to_list(), with_message["message"].to_list(), strict=True)
        for line, message in pairs:
            texts[line] = message
    return texts, times


def mine_files(
    names: list[str],
    format: str = "auto",
    pattern: str | None = None,
    timezone: str = "UTC",
    max_line_bytes: int = 64 * 1024,
    max_templates: int = 10_000,
) -> Mined:
    """Mine every line of ``names`` (paths, ``-`` for standard input; lines too long are skipped).

    Raises:
        SourceError: an input is missing or unreadable.
        FormatError: the format or pattern is unusable.
    """
    return _mine(names, format, pattern, timezone, max_line_bytes, max_templates)


def write_line_templates(
    out: Callable[[str], object],
    names: list[str],
    format: str = "auto",
    pattern: str | None = None,
    timezone: str = "UTC",
    max_line_bytes: int = 64 * 1024,
    max_templates: int = 10_000,
) -> None:
    """Write ``line,template_id,template`` for every line of ``names``, header first, ids after merges.

    Raises:
        SourceError: an input is missing or unreadable.
        FormatError: the format or pattern is unusable.
    """
    spill = _Spill()
    try:
        mined = _mine(names, format, pattern, timezone, max_line_bytes, max_templates, spill)
        texts = mined.texts
        spill.ids.seek(0)
        first = 1
        header = True
        while chunk := spill.ids.read(CSV_ROWS * 8):
            ids = np.frombuffer(chunk, dtype=np.int64)
            resolved = {int(i): spill.resolve(int(i)) for i in np.unique(ids)}
            text = {final: texts.get(final) or spill.text_of(final) for final in set(resolved.values())}
            finals = pl.Series("template_id", ids).replace_strict(resolved, return_dtype=pl.Int64)
            frame = pl.DataFrame(
                {
                    "line": pl.int_range(first, first + len(ids), eager=True),
                    "template_id": finals,
                    "template": finals.replace_strict(text, return_dtype=pl.String),
                }
            )
            out(frame.write_csv(include_header=header))
            first += len(ids)
            header = False
        if header:
            out("line,template_id,template\n")
    finally:
        spill.close()


def _mine(
    names: list[str],
    format: str,
    pattern: str | None,
    timezone: str,
    max_line_bytes: int,
    max_templates: int,
    spill: _Spill | None = None,
) -> Mined:
    """Mine ``names``, folding each batch into the per-template figures; what the per-line output needs
    goes to ``spill``."""
    reader = ReplayReader(names, format, pattern, timezone, max_line_bytes)
    merges: dict[int, int] = {}  # of the batch being mined, old id -> new

    def merged(old: int, new: int) -> None:
        merges[old] = new
        if spill is not None:
            spill.merge(old, new)

    miner = TemplateMiner(max_templates, on_forget=spill.forget if spill else None, on_merge=merged)
    stats = pl.DataFrame(schema=STATS_SCHEMA)
    examples: dict[int, str] = {}
    lines = 0
    try:
        for batch in _batches(reader):
            batch_texts, batch_times = messages(batch)
            matches = miner.add_many(batch_texts)
            ids = [match.template_id for match in matches]
            for line, match in enumerate(matches):
                if match.new:
                    examples[match.template_id] = batch.raw[line]
            if spill is not None:
                spill.ids.write(np.asarray(ids, dtype=np.int64).tobytes())
            rows = pl.DataFrame(
                {
                    "template_id": pl.Series(ids, dtype=pl.Int64),
                    "ts": batch_times.cast(STATS_SCHEMA["first_ts"]),
                }
            )
            stats = _fold(
                miner, merges, pl.concat([stats, _figures(rows.with_row_index("line", offset=lines + 1))])
            )
            merges.clear()
            kept = set(stats["template_id"].to_list())
            examples = {template_id: line for template_id, line in examples.items() if template_id in kept}
            lines += len(ids)
    finally:
        reader.close()
    texts = {info.id: info.template for info in miner.templates()}
    return Mined(lines, stats, texts, examples, miner)


def _figures(frame: pl.DataFrame) -> pl.DataFrame:
    """Per-template figures (:data:`STATS_SCHEMA`) of rows of ``template_id``, ``line`` and ``ts``."""
    return frame.group_by("template_id").agg(
        pl.len().cast(pl.Int64).alias("count"),
        pl.col("line").min().cast(pl.Int64).alias("first_line"),
        pl.col("line").max().cast(pl.Int64).alias("last_line"),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
    )


def _fold(miner: TemplateMiner, merges: dict[int, int], stats: pl.DataFrame) -> pl.DataFrame:
    """The figures by the ids templates go by now (``merges``: those of the batch, old id -> new), of the
    templates kept: merged ones fold into theirs, forgotten ones are dropped."""
    kept = miner.kept()
    now = {int(i): _resolved(merges, int(i)) for i in stats["template_id"].unique()}
    return (
        stats.with_columns(pl.col("template_id").replace_strict(now, return_dtype=pl.Int64))
        .filter(pl.col("template_id").is_in(list(kept)))
        .group_by("template_id")
        .agg(
            pl.col("count").sum(),
            pl.col("first_line").min(),
            pl.col("last_line").max(),
            pl.col("first_ts").min(),
            pl.col("last_ts").max(),
        )
        .select(list(STATS_SCHEMA))
    )


def _resolved(merges: dict[int, int], template_id: int) -> int:
    while template_id in merges:
        template_id = merges[template_id]
    return template_id


def _batches(reader: ReplayReader) -> Iterator[Batch]:
    yield from reader.poll(0.0)
