"""``loglens alerts``: commands about the alert rules of a settings file (``export``, ``test``)."""

from __future__ import annotations

from pathlib import Path

import click

from loglens.alerts.backtest import test_command
from loglens.alerts.export import LeftOut, duration, export_rules
from loglens.config import load_settings
from loglens.errors import ConfigError, LoglensError
from loglens.generate.scenarios import parse_seconds
from loglens.options import config_option, examples


def _interval(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_seconds(value)
        duration(seconds, "interval")
    except (ConfigError, LeftOut) as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("must be > 0")
    return seconds


@click.group(
    "alerts",
    epilog=examples(
        "loglens alerts export --config loglens.yaml",
        "loglens alerts export --config loglens.yaml --output loglens.rules.yml",
        "loglens alerts test --config loglens.yaml access.log",
    ),
)
def alerts() -> None:
    """The alert rules of a settings file (its alerts: section)."""


alerts.add_command(test_command)


@alerts.command(
    "export",
    short_help="Print the rules as Prometheus alerting rules.",
    epilog=examples(
        "loglens alerts export --config loglens.yaml",
        "loglens alerts export --config loglens.yaml --interval 15s -o /etc/prometheus/loglens.yml",
    ),
)
@config_option()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here [default: stdout]."
)
@click.option(
    "--interval",
    callback=_interval,
    metavar="DURATION",
    help="The group's evaluation interval (15s, 1m) [default: Prometheus's evaluation_interval].",
)
def export(config: Path | None, output: Path | None, interval: float | None) -> None:
    """Print the alert rules as Prometheus alerting rules over loglens's metrics, a rule file that
    promtool check rules accepts and Prometheus's rule_files loads.

    A rule with no PromQL equivalent (a message regex, a service) is left out, as a comment saying why.
    The settings are read as loglens check reads them: the file, then the LOGLENS__* variables.
    """
    text = export_rules(load_settings(config).alerts, interval)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LoglensError(f"cannot write {output}: {exc.strerror}") from None
