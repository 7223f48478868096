"""``loglens metrics test --config FILE LOGFILE``: what a rule set would expose for a log.

The log is replayed through the settings' ``metrics:`` rules alone (no checkpoint, no windows) and the
user metrics are printed as Prometheus would scrape them; ``--explain`` adds, per rule, how many lines
it matched and the first of them.
"""

from __future__ import annotations

from pathlib import Path

import click

from loglens.config import load_settings
from loglens.errors import ConfigError
from loglens.metrics.state import UserMetrics
from loglens.options import config_option, examples, parse_options, parse_overrides
from loglens.runtime import Runtime
from loglens.sources.replay_reader import ReplayReader


def metrics_test(
    config: Path | None,
    files: list[str],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    explain: int = 0,
) -> UserMetrics:
    """Replay ``files`` through the rules; keep ``explain`` matched lines per rule.

    Raises:
        ConfigError: bad settings, or settings without a ``metrics:`` rule.
        SourceError, FormatError: as ``loglens replay``.
    """
    settings = load_settings(config, parse=parse_overrides(timezone, max_line_bytes))
    if not settings.metrics:
        raise ConfigError(f"{config or 'the settings'}: no metrics: rules to test")
    parse = settings.parse
    reader = ReplayReader(files, format_, pattern, parse.timezone, parse.max_line_bytes)
    runtime = Runtime(settings, [reader], checkpoint=False, windows=False)
    assert runtime.metrics is not None
    runtime.metrics.explain = explain
    try:
        runtime.drain()
    finally:
        runtime.close()
    return runtime.metrics


def exposition(metrics: UserMetrics) -> str:
    """The user metrics in the Prometheus text format."""
    from prometheus_client import CollectorRegistry, generate_latest

    from loglens.metrics.exposition import UserMetricsCollector

    registry = CollectorRegistry()
    registry.register(UserMetricsCollector(metrics, scrape=False))
    return generate_latest(registry).decode()


def explanation(metrics: UserMetrics) -> str:
    """Per rule: the lines it matched, and the first of them."""
    out = []
    for rule, matched, lines in zip(metrics.rules, metrics.matched, metrics.examples, strict=True):
        config = rule.config
        what = f"match {config.match!r}" if config.match else ""
        if config.where is not None:
            where = config.where.model_dump(exclude_none=True)
            what += (" and " if what else "") + "where " + ", ".join(f"{k}={v}" for k, v in where.items())
        shown = f", the first {len(lines)}:" if lines else ""
        out.append(f"# {config.name} ({config.type}, {what}): {matched} line(s) matched{shown}")
        out += [f"#   {line}" for line in lines]
    return "\n".join(out) + "\n"


@click.group(
    "metrics",
    epilog=examples(
        "loglens metrics test --config loglens.yaml app.log",
        "loglens metrics test --config loglens.yaml --explain --lines 3 access.log",
    ),
)
def metrics() -> None:
    """The user metrics of a settings file (its metrics: section)."""


@metrics.command(
    "test",
    short_help="Print what the rules would expose for a log.",
    epilog=examples(
        "loglens metrics test --config loglens.yaml app.log",
        "loglens metrics test --config loglens.yaml --explain access.log.1.gz",
    ),
)
@click.argument("files", nargs=-1, required=True)
@parse_options
@click.option("--explain", is_flag=True, help="Also show, per rule, the lines it matched.")
@click.option(
    "--lines",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Lines shown per rule with --explain.",
)
@config_option()
def test_command(
    files: tuple[str, ...],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    explain: bool,
    lines: int,
    config: Path | None,
) -> None:
    """Replay log FILES (plain, .gz, or - for stdin) through the metrics: rules and print the user
    metrics as /metrics would show them; with --explain, then each rule's matched lines (as # comments,
    so the output stays a valid exposition)."""
    found = metrics_test(
        config, list(files), format_, pattern, timezone, max_line_bytes, lines if explain else 0
    )
    click.echo(exposition(found), nl=False)
    if explain:
        click.echo(explanation(found), nl=False)
