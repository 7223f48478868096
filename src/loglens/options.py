"""Command-line options shared by the commands: one name, one meaning and one help text per concept.

Flags are kebab-case. Spellings of earlier releases stay accepted as hidden aliases (``--timewindow``
for ``--time-window``), so scripts keep working while ``--help`` shows one name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from loglens.parsing import FORMATS

F = TypeVar("F", bound=Callable[..., Any])
LOG_LEVELS = ("debug", "info", "warning", "error")


class AliasedOption(click.Option):
    """An option whose ``aliases`` are accepted on the command line but left out of ``--help``."""

    def __init__(self, *args: Any, aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = aliases
        self.opts.extend(aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = [name for name in self.opts if name not in self.aliases]
        opts, self.opts = self.opts, shown
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts


def option(*names: str, aliases: tuple[str, ...] = (), **kwargs: Any) -> Callable[[F], F]:
    """``click.option`` with hidden ``aliases``."""
    return click.option(*names, cls=AliasedOption, aliases=aliases, **kwargs)


def config_option() -> Callable[[F], F]:
    return click.option("--config", type=click.Path(path_type=Path), help="YAML settings file.")


def state_dir_option() -> Callable[[F], F]:
    return click.option(
        "--state-dir",
        type=click.Path(path_type=Path),
        help="Folder of the checkpoint [default: $XDG_STATE_HOME/loglens, /var/lib/loglens as root].",
    )


def listen_option(default: str | None = None, note: str = "") -> Callable[[F], F]:
    shown = f" [default: {default or '127.0.0.1:9911'}]"
    return click.option(
        "--listen",
        default=default,
        metavar="[HOST]:PORT",
        help="Address of the HTTP server: HOST:PORT, :PORT (every interface) or PORT (127.0.0.1)"
        + note
        + "."
        + shown,
    )


def format_option(default: str | None = "auto") -> Callable[[F], F]:
    return click.option(
        "--format",
        "format_",
        type=click.Choice(FORMATS),
        default=default,
        help="Log format; auto detects it per file [default: auto].",
    )


def pattern_option() -> Callable[[F], F]:
    return click.option(
        "--pattern", help="Custom format: regex with named groups, Apache LogFormat or nginx log_format."
    )


def timezone_option() -> Callable[[F], F]:
    return click.option("--timezone", help="Zone of timestamps that carry none [default: UTC].")


def max_line_bytes_option() -> Callable[[F], F]:
    return option(
        "--max-line-bytes",
        type=click.IntRange(min=256),
        help="Longer lines are counted as too_long and skipped [default: 65536].",
    )


def from_start_option(help_text: str) -> Callable[[F], F]:
    return click.option("--from-start", is_flag=True, default=None, help=help_text)


def log_level_option() -> Callable[[F], F]:
    return click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="info",
        show_default=True,
        help="Least severe messages loglens logs to stderr.",
    )


def parse_options(func: F) -> F:
    """``--format``, ``--pattern``, ``--timezone`` and ``--max-line-bytes``: how lines are read."""
    for decorate in reversed((format_option(), pattern_option(), timezone_option(), max_line_bytes_option())):
        func = decorate(func)
    return func


def parse_overrides(timezone: str | None, max_line_bytes: int | None) -> dict[str, Any] | None:
    """The ``parse`` section that ``--timezone`` and ``--max-line-bytes`` set, or None."""
    given = {"timezone": timezone, "max_line_bytes": max_line_bytes}
    return {key: value for key, value in given.items() if value is not None} or None


def setup_logging(level: str) -> None:
    """Log loglens's messages to stderr at ``level``."""
    logging.basicConfig(level=level.upper(), format="loglens: %(message)s", force=True)


def alert_options(func: F) -> F:
    """``--alert-threshold``, ``--alert-window``, ``--alert-for`` and ``--incident-limit``: the
    high-traffic alert."""
    decorators = (
        option(
            "--alert-threshold",
            type=click.FloatRange(min=0, min_open=True),
            help="Hits/s (averaged over --alert-window) at which the alert fires "
            "[default: alert.threshold, 10].",
        ),
        option(
            "--alert-window",
            aliases=("--alertwindow",),
            type=click.IntRange(min=1),
            help="Seconds the high-traffic rate is averaged over [default: alert.window_seconds, 120].",
        ),
        option(
            "--alert-for",
            metavar="SECONDS",
            help="Over the threshold this long (10, 10s, 1m) before the alert fires, so traffic sitting "
            "at the threshold does not make it flap [default: alert.for_seconds, 0].",
        ),
        option(
            "--incident-limit",
            type=click.IntRange(min=1),
            help="Past incidents kept and shown [default: alert.incident_limit, 3].",
        ),
    )
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def alert_overrides(
    threshold: float | None, window_seconds: int | None, for_: str | None, incident_limit: int | None
) -> dict[str, Any] | None:
    """The ``alert`` section that the alert flags set, or None."""
    given = {"threshold": threshold, "window_seconds": window_seconds, "for_seconds": for_,
             "incident_limit": incident_limit}  # fmt: skip
    return {key: value for key, value in given.items() if value is not None} or None


def examples(*lines: str) -> str:
    """The epilog that ends a command's ``--help``: its examples, one per line, as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
