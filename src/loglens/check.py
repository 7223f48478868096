"""``loglens check --config FILE``: validate a settings file without running anything."""

from __future__ import annotations

from pathlib import Path

import click

from loglens.agent import source_specs
from loglens.config import Settings, load_settings
from loglens.options import examples


def describe(settings: Settings) -> list[str]:
    """Check every source of ``settings`` and describe what ``loglens run`` would do with it.

    Raises:
        ConfigError, FormatError, SourceError: the first problem found, as one line.
    """
    specs = source_specs(settings)
    lines = [f"listen {settings.server.listen}, state folder {settings.state.dir}"]
    for spec in specs:
        found = sum(1 for _ in spec.matches())
        how = f"pattern {spec.pattern!r}" if spec.pattern else f"format {spec.format}"
        name = f" as {spec.name!r}" if spec.name else ""
        lines.append(f"source {spec.path}{name}: {how}, {found} file(s) now")
    if not specs:
        lines.append("no sources: loglens run would serve the push API only")
    return lines


@click.command(
    "check",
    epilog=examples(
        "loglens check --config loglens.yaml",
        "LOGLENS__SERVER__LISTEN=:9911 loglens check --config loglens.yaml",
        "loglens check   # the defaults and LOGLENS__* variables alone",
    ),
)
@click.option("--config", type=click.Path(path_type=Path), help="YAML settings file to check.")
def check_command(config: Path | None) -> None:
    """Validate settings: the file's unknown keys, bad values, formats, patterns and source paths, and
    the LOGLENS__* environment variables over it.

    Exits 0 and describes the sources when the settings are usable, else prints one line naming the
    problem and where it came from (exit 2).
    """
    lines = describe(load_settings(config))
    click.echo(f"{config or 'settings'}: ok")
    for line in lines:
        click.echo(f"  {line}")
