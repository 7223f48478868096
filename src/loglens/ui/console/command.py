"""``loglens watch``: follow log files and show the live console (or a plain report) with alerts."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

import click

from loglens.aggregate.totals import Totals
from loglens.alerts.notify import JsonLinesSink
from loglens.clock import Clock, SystemClock
from loglens.config import load_settings
from loglens.errors import SourceError
from loglens.parsing import FORMATS, build_parser
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.monitor import Monitor, WatchOptions
from loglens.ui.console.text import plain_report


def run_plain(
    monitor: Monitor, refresh: float, clock: Clock, out: TextIO, iterations: int | None = None
) -> None:
    """Print a plain-text report every ``refresh`` seconds (``iterations`` times, forever when None)."""
    done = 0
    while iterations is None or done < iterations:
        if done:
            clock.sleep(refresh)
        width = shutil.get_terminal_size((80, 24)).columns
        out.write(plain_report(monitor.refresh(), width) + "\n")
        out.flush()
        done += 1


def open_follower(
    files: tuple[str, ...],
    format_: str = "auto",
    pattern: str | None = None,
    timezone: str = "UTC",
    max_line_bytes: int = 64 * 1024,
    from_start: bool = False,
) -> FileFollower:
    """Follow ``files`` (paths, globs or folders) with the file follower ``loglens run`` uses.

    Raises:
        SourceError: a named file does not exist (globs and folders may match files later).
        FormatError: the format or pattern is unusable.
    """
    build_parser(format_, pattern, timezone)  # fail now, not at the first line
    specs = [SourceSpec(name, format_, pattern) for name in files]
    for spec in specs:
        spec.check()
        if not spec.is_glob and not os.path.exists(spec.path):
            raise SourceError(f"{spec.path}: no such file")
    return FileFollower(
        specs, Totals(), from_start=from_start, max_line_bytes=max_line_bytes, timezone=timezone
    )


@click.command("watch")
@click.argument("files", nargs=-1, required=True)
@click.option("--timewindow", type=click.IntRange(min=1), default=10, show_default=True,
              help="Seconds the header, sections and mixes cover.")
@click.option("--alertwindow", type=click.IntRange(min=1), default=120, show_default=True,
              help="Seconds the high-traffic rate is averaged over.")
@click.option("--alert-threshold", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="Hits/s (averaged over --alertwindow) at which the alert fires.")
@click.option("--section-limit", type=click.IntRange(min=1), default=8, show_default=True,
              help="Top sections shown.")
@click.option("--refresh", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds between screen (or report) updates.")
@click.option("--incident-limit", type=click.IntRange(min=1), default=3, show_default=True,
              help="Past incidents kept and shown.")
@click.option("--alert-log", type=click.Path(dir_okay=False, path_type=Path),
              help="Append every fire and recover to this file, one JSON object per line.")
@click.option("--format", "format_", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Log format; auto detects it per file.")
@click.option("--pattern",
              help="Custom format: regex with named groups, Apache LogFormat or nginx log_format.")
@click.option("--timezone", help="Zone of timestamps that carry none (default UTC).")
@click.option("--from-start", is_flag=True,
              help="Read the files from their start; time then follows the logs' own timestamps.")
@click.option("--plain", is_flag=True,
              help="Print a plain-text report every refresh (the default when stdout is not a terminal).")
@click.option("--config", type=click.Path(path_type=Path), help="YAML settings file.")
def watch(
    files: tuple[str, ...], timewindow: int, alertwindow: int, alert_threshold: float, section_limit: int,
    refresh: float, incident_limit: int, alert_log: Path | None, format_: str, pattern: str | None,
    timezone: str | None, from_start: bool, plain: bool, config: Path | None,
) -> None:
    """Follow log FILES and show live traffic, top sections and status codes, with a high-traffic alert."""
    settings = load_settings(config, parse={"timezone": timezone} if timezone else None)
    options = WatchOptions(
        timewindow=timewindow,
        alertwindow=alertwindow,
        threshold=alert_threshold,
        section_limit=section_limit,
        incident_limit=incident_limit,
        lateness_seconds=settings.limits.lateness_seconds,
    )
    follower = open_follower(
        files, format_, pattern, settings.parse.timezone, settings.parse.max_line_bytes, from_start
    )
    alert_sink = JsonLinesSink(alert_log) if alert_log else None
    clock = SystemClock()
    monitor = Monitor(follower, options, clock, replay=from_start, sinks=(alert_sink,) if alert_sink else ())
    try:
        if plain or not sys.stdout.isatty():
            run_plain(monitor, refresh, clock, sys.stdout)
        else:
            from loglens.ui.console.app import WatchApp

            WatchApp(monitor, refresh, " ".join(files)).run()
    except KeyboardInterrupt:
        pass
    finally:
        if alert_sink is not None:
            alert_sink.close()
