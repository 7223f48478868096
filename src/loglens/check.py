"""``loglens check --config FILE``: validate a settings file without running anything."""

from __future__ import annotations

from pathlib import Path

import click

from loglens.agent import alert_rules, source_specs
from loglens.archive.backend import backend_for
from loglens.config import Settings, load_settings
from loglens.options import examples


def describe(settings: Settings) -> list[str]:
    """Check every source of ``settings`` and describe what ``loglens run`` would do with it.

    Raises:
        ConfigError, FormatError, SourceError: the first problem found, as one line (an S3 archive
            without boto3 included).
    """
    specs = source_specs(settings)
    lines = [f"listen {settings.server.listen}, state folder {settings.state.dir}"]
    for spec in specs:
        found = sum(1 for _ in spec.matches())
        how = f"pattern {spec.pattern!r}" if spec.pattern else f"format {spec.format}"
        name = f" as {spec.name!r}" if spec.name else ""
        lines.append(f"source {spec.path}{name}: {how}, {found} file(s) now")
    if not specs:
        lines.append("no files followed: loglens run would serve the HTTP APIs only")
    ingest = settings.ingest
    if ingest.enabled:
        guard = "a bearer token" if ingest.token else "no token"
        lines.append(
            f"ingest on POST /api/logs and /log_collector, Loki and OTLP ({guard}), "
            f"spool {settings.state.dir / 'spool'}"
        )
    else:
        lines.append("ingest off")
    if settings.syslog.listen:
        lines.append(f"syslog on {', '.join(settings.syslog.listen)}, spool {settings.state.dir / 'spool'}")
    rules = alert_rules(settings)
    lines.append("alert rules: " + ", ".join(f"{rule.name} ({rule.kind})" for rule in rules))
    if settings.metrics:
        lines.append("user metrics: " + ", ".join(f"{m.name} ({m.type})" for m in settings.metrics))
    lines += [f"notify {notifier.describe()}" for notifier in settings.notify]
    archive = settings.archive
    if archive.enabled:
        what = "every line received over HTTP" + (" and every followed line" if archive.files else "")
        lines.append(f"archive of {what} in {backend_for(settings).where}")
    else:
        lines.append("archive off")
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

    Exits 0 and describes the sources, ingest and the archive when the settings are usable, else prints
    one line naming the problem and where it came from (exit 2).
    """
    lines = describe(load_settings(config))
    click.echo(f"{config or 'settings'}: ok")
    for line in lines:
        click.echo(f"  {line}")
