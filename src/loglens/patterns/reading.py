"""Mine whole inputs: every line read (as ``loglens replay`` reads it) goes to one miner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from loglens.patterns.miner import TemplateMiner
from loglens.records import Batch
from loglens.sources.replay_reader import ReplayReader


@dataclass
class Mined:
    """The outcome of :func:`mine_files`.

    Attributes:
        lines: one row per line mined, in input order: ``line`` (1-based, counted across the inputs),
            ``template_id`` (after merges) and ``ts`` (event time, null where the line has none).
        texts: template id -> template.
        examples: template id -> the first line of the template (the whole line, as read).
        miner: the miner, holding the templates kept.
    """

    lines: pl.DataFrame
    texts: dict[int, str]
    examples: dict[int, str]
    miner: TemplateMiner


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
    miner = TemplateMiner(max_templates)
    reader = ReplayReader(names, format, pattern, timezone, max_line_bytes)
    texts: dict[int, str] = {}
    examples: dict[int, str] = {}
    ids: list[int] = []
    times: list[pl.Series] = []
    try:
        for batch in _batches(reader):
            batch_texts, batch_times = messages(batch)
            for line, match in enumerate(miner.add_many(batch_texts)):
                ids.append(match.template_id)
                if match.new:
                    texts[match.template_id] = match.template
                    examples[match.template_id] = batch.raw[line]
            times.append(batch_times)
    finally:
        reader.close()
    texts.update((info.id, info.template) for info in miner.templates())
    resolved = [miner.resolve(template_id) for template_id in ids]
    ts = pl.concat(times) if times else pl.Series("ts", [], dtype=pl.Datetime("us", "UTC"))
    frame = pl.DataFrame({"template_id": pl.Series(resolved, dtype=pl.Int64), "ts": ts})
    frame = frame.with_row_index("line", offset=1)
    return Mined(frame, texts, examples, miner)


def _batches(reader: ReplayReader) -> Iterator[Batch]:
    yield from reader.poll(0.0)
