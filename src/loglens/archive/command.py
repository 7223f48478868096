"""``loglens archive ls|cat|replay``: the archived lines of a time range and of some sources.

They read the archive that ``loglens run`` with the same ``--config`` and ``--state-dir`` writes: its
backend (the local folder or S3) and the segments still in its spool. They take no lock, so they run
beside it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TypeVar

import click

from loglens.aggregate.counters import Limits
from loglens.aggregate.totals import Totals
from loglens.archive.backend import Backend, backend_for
from loglens.archive.listing import Listed, copy_lines, copy_records, local_copy, parse_when, select
from loglens.config import Settings
from loglens.contracts import printable
from loglens.errors import ConfigError
from loglens.options import config_option, examples, parse_options, state_dir_option
from loglens.replay import report_options
from loglens.run import run_settings

F = TypeVar("F", bound=Callable[..., Any])


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_when(value, time.time())
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def selection_options(func: F) -> F:
    """``--config``, ``--state-dir`` (those of ``loglens run``), ``--since``, ``--until``, ``--source``."""
    decorators = (
        config_option(),
        state_dir_option(),
        click.option(
            "--since",
            callback=_when,
            metavar="TIME",
            help="Segments with lines that arrived from TIME: RFC 3339 (2026-12-01T07:00:00Z) or ago (2d).",
        ),
        click.option("--until", callback=_when, metavar="TIME", help="Segments begun by TIME (same forms)."),
        click.option("--source", "sources", multiple=True, help="Only this source label (repeatable)."),
    )
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def _select(
    config: Path | None,
    state_dir: Path | None,
    since: float | None,
    until: float | None,
    sources: tuple[str, ...],
    **parse: Any,
) -> tuple[Settings, Backend, list[Listed]]:
    settings = run_settings(config=config, state_dir=state_dir, **parse)
    backend = backend_for(settings)
    return settings, backend, select(backend, settings.state.dir, since, until, sources)


@click.group(
    "archive",
    epilog=examples(
        "loglens archive ls --since 1h",
        "loglens archive cat --source web --since 2026-12-01T07:00:00Z | grep ' 500 '",
        "loglens archive replay --config loglens.yaml --since 1d --output json",
    ),
)
def archive() -> None:
    """List, print or replay the lines that loglens run archived (local folder or S3).

    --since and --until select whole segments: those that may hold lines that arrived in the range.
    """


@archive.command(
    "ls",
    epilog=examples(
        "loglens archive ls",
        "loglens archive ls --source web --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z",
        "loglens archive ls --config loglens.yaml --since 6h",
    ),
)
@selection_options
def ls_command(
    config: Path | None,
    state_dir: Path | None,
    since: float | None,
    until: float | None,
    sources: tuple[str, ...],
) -> None:
    """List segments, oldest first: start, bytes, stored or pending (not uploaded yet), source, key."""
    _, _, listed = _select(config, state_dir, since, until, sources)
    for segment in listed:
        name = segment.name
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(name.started))
        click.echo(f"{start}  {segment.size:>10}  {segment.state:<7}  {printable(name.source)}  {name.key}")


@archive.command(
    "cat",
    epilog=examples(
        "loglens archive cat --since 30m",
        "loglens archive cat --source web --since 2026-12-01T07:00:00Z --until 2026-12-01T08:00:00Z",
        "loglens archive cat --config loglens.yaml --json --source checkout | jq -c .labels",
    ),
)
@selection_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON object a line: {"source", "line"}, and the "labels" and "metadata" a shipper sent (Loki).',
)
def cat_command(
    config: Path | None,
    state_dir: Path | None,
    since: float | None,
    until: float | None,
    sources: tuple[str, ...],
    as_json: bool,
) -> None:
    """Print the lines of the segments, oldest segment first, each segment's lines in arrival order."""
    _, backend, listed = _select(config, state_dir, since, until, sources)
    out = sys.stdout.buffer
    copy = copy_records if as_json else copy_lines
    try:
        for segment in listed:
            try:
                copy(backend, segment, out)
            except BrokenPipeError:
                raise
            except (ValueError, EOFError, OSError) as exc:  # (gzip's errors are OSError and EOFError)
                raise click.ClickException(f"segment {segment.name.key} cannot be read: {exc}") from None
        out.flush()
    except BrokenPipeError:  # the reader left (| head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@archive.command(
    "replay",
    epilog=examples(
        "loglens archive replay --since 1h",
        "loglens archive replay --source web --output json > report.json",
        "loglens archive replay --config loglens.yaml --since 1d --output prometheus",
    ),
)
@selection_options
@parse_options
@report_options
def replay_command(
    config: Path | None,
    state_dir: Path | None,
    since: float | None,
    until: float | None,
    sources: tuple[str, ...],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    output: str,
    section_limit: int,
    top: int,
) -> None:
    """Report on the archived lines as loglens replay does on files (per source, in Prometheus output).

    Exit status 3 (after the report) when lines were read and not one parsed.
    """
    from loglens.replay import check_parsed, print_report, replay

    parse = {"timezone": timezone, "max_line_bytes": max_line_bytes}
    settings, backend, listed = _select(config, state_dir, since, until, sources, **parse)
    if not listed:
        click.echo("loglens: no archived segment matches", err=True)
    limits = Limits(settings.limits.max_label_values, settings.limits.section_limit)
    with TemporaryDirectory(prefix="loglens-archive-") as folder:
        files = {str(local_copy(backend, segment, Path(folder))): segment for segment in listed}
        result = replay(
            list(files), format_, pattern, settings.parse.timezone, settings.parse.max_line_bytes,
            limits if output == "prometheus" else None, None, settings, web=output == "html",
        )  # fmt: skip
    result.files = [segment.name.key for segment in listed]
    result.names = {path: segment.name.key for path, segment in files.items()}
    if result.totals is not None:
        result.totals = _by_source(
            result.totals, {path: segment.name.source for path, segment in files.items()}
        )
    print_report(result, output, section_limit, top)
    check_parsed(result.summary, format_, pattern)


def _by_source(totals: Totals, sources: dict[str, str]) -> Totals:
    """Totals per segment file folded into totals per source label."""
    merged = Totals(totals.limits)
    for path, counters in totals.sources.items():
        merged.source(sources.get(path, path)).merge(counters)
    return merged
