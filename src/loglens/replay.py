"""``loglens replay``: read whole log files (plain, gzip or stdin) and report on them at once."""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click

from loglens.aggregate.breakdown import Breakdown
from loglens.aggregate.counters import Limits, SourceCounters
from loglens.aggregate.totals import Totals
from loglens.config import load_settings
from loglens.parsing import FORMATS, build_parser
from loglens.parsing.lines import LineChunk, LineSplitter
from loglens.pipeline import LinePipeline
from loglens.sources.file_read import CHUNK_BYTES, open_input, raw_position, read_chunks

#: Caps for the replay report: large, since a report is read once, yet still bounded.
REPORT_LIMITS = Limits(max_label_values=100_000, section_limit=100_000)


@dataclass
class ReplayResult:
    """Everything a replay measured."""

    summary: SourceCounters
    breakdown: Breakdown
    totals: Totals | None  # per source, with the caps of a running loglens; only when asked for
    files: list[str]
    elapsed: float = 0.0

    @property
    def methods(self) -> Counter[str]:
        """Requests by method."""
        methods: Counter[str] = Counter()
        for (method, _status), count in self.summary.requests.items():
            methods[method] += int(count)
        return methods


def replay(
    names: list[str],
    format: str = "auto",
    pattern: str | None = None,
    timezone: str = "UTC",
    max_line_bytes: int = 64 * 1024,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Read every input to its end; ``progress`` gets the raw bytes read so far after each chunk.

    With ``limits``, per-source totals capped like a running loglens's are kept too (``totals``, what
    ``--output prometheus`` prints); the report itself uses the near-uncapped ``summary``.

    Raises:
        SourceError: an input is missing or unreadable (checked for all inputs before reading any).
        FormatError: the format or pattern is unusable.
    """
    started = time.perf_counter()
    handles = [(name, open_input(name)) for name in names]
    totals = Totals(limits) if limits is not None else None
    result = ReplayResult(SourceCounters(REPORT_LIMITS), Breakdown(), totals, names)
    done = 0
    with ThreadPoolExecutor(1, thread_name_prefix="loglens-panels") as panels:
        folding: Future[None] | None = None
        for name, handle in handles:
            source = "stdin" if name == "-" else name
            pipeline = LinePipeline(source, build_parser(format, pattern, timezone), max_line_bytes)
            with handle:
                for batch, _ in pipeline.parse_ahead(read_ahead(handle, pipeline.splitter)):
                    if batch.lines == 0:
                        continue
                    # The visitor panels fold in their own thread (polars releases the GIL), one
                    # batch at a time, in order, while this one folds the totals.
                    if folding is not None:
                        folding.result()
                    folding = panels.submit(result.breakdown.update, batch.records)
                    result.summary.update(batch)
                    if result.totals is not None:
                        result.totals.update(batch)
                    if progress is not None:
                        progress(done + raw_position(handle))
            done += raw_position(handle) if name != "-" else 0
        if folding is not None:
            folding.result()
    result.elapsed = time.perf_counter() - started
    return result


def read_ahead(handle: BinaryIO, splitter: LineSplitter) -> Iterator[LineChunk]:
    """Read and split the next chunk in a thread while the caller works on this one.

    polars releases the GIL, so reading and splitting overlap with parsing. The reader starts a read
    only once the caller has taken the previous chunk, so at most one chunk waits: each chunk in
    flight costs about ten times its size in memory.
    """
    chunks: queue.Queue[LineChunk | BaseException | None] = queue.Queue()
    room = threading.Semaphore(1)

    def produce() -> None:
        try:
            reads = read_chunks(handle, lambda: splitter.read_size(CHUNK_BYTES))
            while room.acquire() and (data := next(reads, None)) is not None:
                chunks.put(splitter.feed(data))
            chunks.put(splitter.finish())
            chunks.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            chunks.put(exc)

    reader = threading.Thread(target=produce, name="loglens-read-ahead", daemon=True)
    reader.start()
    while (item := chunks.get()) is not None:
        room.release()
        if isinstance(item, BaseException):
            raise item
        yield item
    reader.join()


def _progress(files: tuple[str, ...]) -> AbstractContextManager[Callable[[int], None] | None]:
    """A progress bar on a terminal; elsewhere nothing, and rich is not even imported."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from loglens.report_table import progress_bar

    return progress_bar(files)


@click.command("replay")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Log format; auto detects it per file.",
)
@click.option(
    "--pattern", help="Custom format: regex with named groups, Apache LogFormat or nginx log_format."
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "prometheus"]),
    default="table",
    show_default=True,
    help="Report style.",
)
@click.option(
    "--section-limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Top sections to report.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Rows in the other top-N panels (clients, not found, referrers, agents).",
)
@click.option("--timezone", help="Zone of timestamps that carry none (default UTC).")
@click.option("--max-line-bytes", type=click.IntRange(min=256), help="Longer lines are skipped as too_long.")
@click.option("--config", type=click.Path(path_type=Path), help="YAML settings file.")
def replay_command(
    files: tuple[str, ...],
    format_: str,
    pattern: str | None,
    output: str,
    section_limit: int,
    top: int,
    timezone: str | None,
    max_line_bytes: int | None,
    config: Path | None,
) -> None:
    """Read log FILES (plain, .gz, or - for stdin) and report hits, statuses, sections, levels and errors."""
    from loglens import report

    parse = {"timezone": timezone, "max_line_bytes": max_line_bytes}
    settings = load_settings(config, parse={k: v for k, v in parse.items() if v is not None} or None)
    limits = Limits(settings.limits.max_label_values, settings.limits.section_limit)
    with _progress(files) as advance:
        result = replay(
            list(files),
            format_,
            pattern,
            settings.parse.timezone,
            settings.parse.max_line_bytes,
            limits if output == "prometheus" else None,
            advance,
        )
    if output == "json":
        sys.stdout.write(report.to_json(result, section_limit, top) + "\n")
    elif output == "prometheus":
        sys.stdout.write(report.to_prometheus(result))
    else:
        from loglens.report_table import print_table

        print_table(result, section_limit, top)
