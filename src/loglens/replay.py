"""``loglens replay``: read whole log files (plain, gzip or stdin) and report on them at once."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from loglens.aggregate.breakdown import Breakdown
from loglens.aggregate.counters import REPORT_LIMITS, Limits, SourceCounters
from loglens.aggregate.totals import Totals
from loglens.config import Settings, load_settings
from loglens.errors import NothingParsedError
from loglens.options import config_option, examples, parse_options, parse_overrides
from loglens.runtime import Runtime
from loglens.sinks.panels import PanelSink
from loglens.sources.file_read import CHUNK_BYTES, CHUNK_BYTES_WITHOUT_PANELS
from loglens.sources.replay_reader import ReplayReader

if TYPE_CHECKING:
    from loglens.aggregate.visitors import WebPanels
    from loglens.metrics.state import UserMetrics
    from loglens.query import Query

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ReplayResult:
    """Everything a replay measured."""

    summary: SourceCounters
    breakdown: Breakdown
    totals: Totals | None  # per source, with the caps of a running loglens; only when asked for
    files: list[str]
    elapsed: float = 0.0
    metrics: UserMetrics | None = None  # the settings' metrics: rules, when it has some
    query: Query | None = None  # the finished runtime's state, for the web page (``web=True``)
    names: dict[str, str] | None = None  # the name each input is shown by, when not its path

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
    settings: Settings | None = None,
    web: bool = False,
) -> ReplayResult:
    """Read every input to its end; ``progress`` gets the raw bytes read so far after each chunk.

    A runtime with the replay reader as its source and the visitor panels as its sink, without
    windows or checkpoint; the summary is the sum of the per-source totals. With ``limits`` (for
    ``--output prometheus``), the per-source totals are capped like a running loglens's (``totals``)
    and no panels are folded: the exposition has none, and only the summary's line counts are read.
    With ``web``, the web page's panels are folded instead of the report's (``result.query`` reads them).

    Raises:
        SourceError: an input is missing or unreadable (checked for all inputs before reading any).
        FormatError: the format or pattern is unusable.
    """
    started = time.perf_counter()
    breakdown = Breakdown()
    web_panels: WebPanels | None = None
    if web:  # imported only then: its sketches need numpy, which the other reports do without
        from loglens.aggregate.visitors import WebPanels

        web_panels = WebPanels(REPORT_LIMITS.max_label_values)
    sinks = [PanelSink(web_panels if web_panels is not None else breakdown)] if limits is None else []
    chunk = CHUNK_BYTES if sinks else CHUNK_BYTES_WITHOUT_PANELS  # no panels: memory for bigger reads
    reader = ReplayReader(names, format, pattern, timezone, max_line_bytes, progress, chunk)
    runtime = Runtime(
        settings or load_settings(), [reader], sinks, checkpoint=False, windows=False,
        limits=limits or REPORT_LIMITS, web_panels=web_panels,
    )  # fmt: skip
    try:
        runtime.drain()
    finally:
        runtime.close()
    result = ReplayResult(runtime.query.summary(), breakdown, runtime.totals if limits else None, names)
    result.metrics = runtime.metrics
    result.query = runtime.query if web else None
    result.elapsed = time.perf_counter() - started
    return result


def check_parsed(summary: SourceCounters, format: str, pattern: str | None) -> None:
    """Raise :class:`NothingParsedError` when lines were read and not one parsed.

    An empty input, or one of blank lines only, read nothing to parse: it passes. ``auto`` keeps a
    format only once that format has read a line, so when nothing parsed, it detected nothing.
    """
    errors = summary.parse_errors
    if summary.parsed or summary.lines == errors["empty"]:
        return
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(errors.items()))
    read = f"{summary.lines:,} read, rejected as {reasons}"
    if pattern:
        hint = f"no line parsed with the --pattern given ({read}); check it against a line, or try --format"
    elif format == "auto":
        hint = f"no line parsed, and --format auto detected no format ({read}); "
        hint += "name one with --format, or give --pattern"
    else:
        hint = f"no line parsed as {format} ({read}); try another --format, or give --pattern"
    raise NothingParsedError(hint)


def _progress(files: tuple[str, ...]) -> AbstractContextManager[Callable[[int], None] | None]:
    """A progress bar on a terminal; elsewhere nothing, and rich is not even imported."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from loglens.report_table import progress_bar

    return progress_bar(files)


def report_options(func: F) -> F:
    """``--output``, ``--section-limit`` and ``--top``: how a replay's report is printed."""
    decorators = (
        click.option("--output", "-o", type=click.Choice(["table", "json", "prometheus", "html"]),
                     default="table", show_default=True, help="Report style."),
        click.option("--section-limit", type=click.IntRange(min=1), default=10, show_default=True,
                     help="Top sections to report (watch shows 8, to fit its screen)."),
        click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
                     help="Rows in the other top-N panels (clients, not found, referrers, agents)."),
    )  # fmt: skip
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def print_report(result: ReplayResult, output: str, section_limit: int, top: int) -> None:
    """Print ``result`` to stdout as a table, JSON or the Prometheus exposition."""
    from loglens import report

    if output == "json":
        sys.stdout.write(report.to_json(result, section_limit, top) + "\n")
    elif output == "html":
        from loglens.ui.web.page import report_page

        assert result.query is not None, "replay(web=True) keeps the runtime's query"
        sys.stdout.write(report_page(result.query, result.files, result.elapsed, top, result.names))
    elif output == "prometheus":
        sys.stdout.write(report.to_prometheus(result))
    else:
        from loglens.report_table import print_table

        print_table(result, section_limit, top)


@click.command(
    "replay",
    epilog=examples(
        "loglens replay access.log",
        "loglens replay --output json access.log.*.gz > report.json",
        "zcat old.log.gz | loglens replay --format combined -",
    ),
)
@click.argument("files", nargs=-1, required=True)
@parse_options
@report_options
@config_option()
def replay_command(
    files: tuple[str, ...],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    output: str,
    section_limit: int,
    top: int,
    config: Path | None,
) -> None:
    """Read log FILES (plain, .gz, or - for stdin) and report hits, statuses, sections, levels and errors.

    Exit status 3 (after the report) when lines were read and not one parsed.
    """
    settings = load_settings(config, parse=parse_overrides(timezone, max_line_bytes))
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
            settings,
            web=output == "html",
        )
    print_report(result, output, section_limit, top)
    check_parsed(result.summary, format_, pattern)
