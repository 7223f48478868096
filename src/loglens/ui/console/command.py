"""``loglens watch``: follow log files and show the live console (or a plain report) with alerts."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import click

from loglens.agent import STDIN, alert_rules
from loglens.alerts.engine import AlertSink
from loglens.alerts.notifiers import Notifications
from loglens.alerts.notify import JsonLinesSink
from loglens.clock import Clock, SystemClock
from loglens.config import Settings, load_settings
from loglens.contracts import Source
from loglens.errors import ConfigError, SourceError
from loglens.options import (
    alert_options,
    alert_overrides,
    config_option,
    examples,
    from_start_option,
    option,
    parse_options,
    parse_overrides,
)
from loglens.parsing import build_parser
from loglens.runtime import Runtime
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_tail import FileFollower
from loglens.sources.stdin import StreamSource
from loglens.ui.console.monitor import Feed, Monitor, RemoteMonitor, WatchOptions
from loglens.ui.console.text import plain_report


def run_plain(
    monitor: Feed, refresh: float, clock: Clock, out: TextIO, iterations: int | None = None
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
    return FileFollower(specs, from_start=from_start, max_line_bytes=max_line_bytes, timezone=timezone)


@click.command(
    "watch",
    epilog=examples(
        "loglens watch /var/log/nginx/access.log --alert-threshold 50",
        "tail -f /var/log/app.log | loglens watch -",
        "loglens watch --url http://127.0.0.1:9911",
    ),
)
@click.argument("files", nargs=-1)
@click.option(
    "--url",
    metavar="URL",
    help="Show a running `loglens run` (e.g. http://127.0.0.1:9911) instead of reading FILES.",
)
@option(
    "--time-window",
    aliases=("--timewindow",),
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Seconds the header, sections and mixes cover.",
)
@alert_options
@option(
    "--section-limit",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Top sections shown (8 fit an 80x24 terminal; replay reports 10).",
)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between screen (or report) updates.",
)
@click.option(
    "--alert-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every fire and recover to this file, one JSON object per line.",
)
@parse_options
@from_start_option("Read the files from their start; time then follows the logs' own timestamps.")
@click.option(
    "--plain",
    is_flag=True,
    help="Print a plain-text report every refresh (the default when stdout is not a terminal).",
)
@config_option()
def watch(
    files: tuple[str, ...],
    url: str | None,
    time_window: int,
    alert_window: int | None,
    alert_threshold: float | None,
    alert_for: str | None,
    incident_limit: int | None,
    section_limit: int,
    refresh: float,
    alert_log: Path | None,
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    from_start: bool | None,
    plain: bool,
    config: Path | None,
) -> None:
    """Follow log FILES (- for standard input), or a running agent (--url), and show live traffic, top
    sections, status codes and the high-traffic alert. q or Ctrl-C quits.
    """
    if url is not None and files:
        raise ConfigError("give FILES or --url, not both")
    if url is None and not files:
        raise ConfigError("give the FILES to follow, or --url of a running loglens")
    settings = load_settings(
        config,
        parse=parse_overrides(timezone, max_line_bytes),
        alert=alert_overrides(alert_threshold, alert_window, alert_for, incident_limit),
    )
    alert = settings.alert
    options = WatchOptions(
        time_window, alert.window_seconds, alert.threshold, section_limit, alert.incident_limit
    )
    if url is not None:
        show(RemoteMonitor(url, options), refresh, url, plain)
        return
    parse = settings.parse
    sources: list[Source] = [
        open_follower(
            tuple(f for f in files if f != STDIN),
            format_,
            pattern,
            parse.timezone,
            parse.max_line_bytes,
            bool(from_start),
        )
    ]
    if STDIN in files:
        sources.append(StreamSource(0, "stdin", format_, pattern, parse.timezone, parse.max_line_bytes))
    alert_sink = JsonLinesSink(alert_log) if alert_log else None
    runtime = watch_runtime(
        settings, sources, event_time=bool(from_start), alert_sinks=(alert_sink,) if alert_sink else ()
    )
    runtime.start()
    try:
        show(Monitor(runtime, options), refresh, " ".join(files), plain)
    finally:
        runtime.stop()
        if alert_sink is not None:
            alert_sink.close()


def watch_runtime(
    settings: Settings,
    sources: Sequence[Source],
    *,
    clock: Clock | None = None,
    event_time: bool = False,
    alert_sinks: Sequence[AlertSink] = (),
) -> Runtime:
    """The runtime of ``loglens watch``: its sources, the alert rules and ``notify:``, no checkpoint.

    ``event_time``: the files are read from their start, and time follows the logs' own timestamps.
    """
    return Runtime(
        settings,
        sources,
        views=[Notifications(settings.notify, lambda: "")] if settings.notify else [],
        rules=alert_rules(settings),
        alert_sinks=alert_sinks,
        clock=clock,
        event_time=event_time,
        checkpoint=False,
    )


def show(feed: Feed, refresh: float, title: str, plain: bool) -> None:
    """The console (or, with ``plain`` or no terminal, a plain report every refresh) until quit or Ctrl-C."""
    try:
        if plain or not sys.stdout.isatty():
            run_plain(feed, refresh, SystemClock(), sys.stdout)
        else:
            from loglens.ui.console.app import WatchApp

            WatchApp(feed, refresh, title).run()
    except KeyboardInterrupt:
        pass
