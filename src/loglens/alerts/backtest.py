"""``loglens alerts test --config FILE LOGFILE``: replay logs through the alert rules in their own time.

The rules see the log's seconds as they would have live (the runtime's event-time clock), so the
report says when each rule would have fired and recovered: the way to tune a threshold before it
pages anyone. Nothing is notified and no state is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click
import orjson

from loglens.agent import alert_rules
from loglens.alerts.engine import AlertEvent
from loglens.alerts.rules import Rule, format_time, human_duration
from loglens.config import load_settings
from loglens.options import config_option, examples, parse_options, parse_overrides
from loglens.runtime import Runtime
from loglens.sources.replay_reader import ReplayReader


@dataclass
class Backtest:
    """What the rules did over the logs."""

    rules: list[Rule]
    events: list[AlertEvent] = field(default_factory=list)
    peaks: dict[str, float] = field(default_factory=dict)  # each rule's highest value
    end: int | None = None  # the newest second of the logs

    def send(self, event: AlertEvent) -> None:
        """The engine's sink: keep every event."""
        self.events.append(event)


def backtest(
    settings_path: Path | None,
    files: list[str],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    only: tuple[str, ...] = (),
) -> Backtest:
    """Replay ``files`` through the rules of the settings (``only`` these, when given).

    Raises:
        ConfigError: bad settings, or a rule in ``only`` that the settings do not have.
        SourceError, FormatError: as ``loglens replay``.
    """
    settings = load_settings(settings_path, parse=parse_overrides(timezone, max_line_bytes))
    rules = alert_rules(settings)
    if only:
        from loglens.errors import ConfigError

        unknown = sorted(set(only) - {rule.name for rule in rules})
        if unknown:
            known = ", ".join(rule.name for rule in rules)
            raise ConfigError(f"--rule {unknown[0]!r} is not a rule of the settings ({known})")
        rules = [rule for rule in rules if rule.name in only]
    result = Backtest(rules)
    parse = settings.parse
    reader = ReplayReader(files, format_, pattern, parse.timezone, parse.max_line_bytes)
    runtime = Runtime(
        settings, [reader], rules=rules, alert_sinks=[result], event_time=True, checkpoint=False
    )
    assert runtime.engine is not None
    runtime.engine.peaks = result.peaks
    try:
        runtime.drain()
    finally:
        runtime.close()
    result.end = runtime.engine.evaluated_at
    return result


def _text(result: Backtest) -> str:
    lines = []
    for event in result.events:
        value = "none" if event.value is None else event.rule.value_format.format(event.value)
        labels = ", ".join(f"{k}={v}" for k, v in event.incident.labels.items())
        lines.append(
            f"{format_time(event.at)}  {event.kind:<7}  {event.rule.name}"
            + (f"{{{labels}}}" if labels else "")
            + f"  {event.rule.label} = {value} ({event.rule.op} {event.rule.threshold:g})"
        )
    if lines:
        lines.append("")
    for rule in result.rules:
        fires = [e for e in result.events if e.rule is rule and e.kind == "fire"]
        peak = result.peaks.get(rule.name)
        shown = "no value" if peak is None else f"peak {rule.value_format.format(peak)}"
        if not fires:
            lines.append(f"{rule.name}: never fired ({shown}, fires at {rule.op} {rule.threshold:g})")
            continue
        end = result.end or 0
        firing = sum(e.incident.duration(end) for e in fires)
        still = [e for e in fires if e.incident.end is None]
        tail = f"; {len(still)} still firing at the end of the log" if still else ""
        lines.append(
            f"{rule.name}: fired {len(fires)} time(s), {human_duration(firing)} in all ({shown}){tail}"
        )
    return "\n".join(lines) + "\n"


@click.command(
    "test",
    short_help="Replay logs through the rules: when they would have fired.",
    epilog=examples(
        "loglens alerts test --config loglens.yaml access.log",
        "loglens alerts test --config loglens.yaml --rule error_burst --output json app.log.1.gz",
    ),
)
@click.argument("files", nargs=-1, required=True)
@parse_options
@click.option("--rule", "rules", multiple=True, help="Only this rule (again for more) [default: every rule].")
@click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per event, then each rule's summary; json: one object per event.",
)
@config_option()
def test_command(
    files: tuple[str, ...],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    rules: tuple[str, ...],
    output: str,
    config: Path | None,
) -> None:
    """Replay log FILES (plain, .gz, or - for stdin) through the alert rules in the logs' own time, and
    print when each rule would have fired and recovered. Nothing is notified."""
    result = backtest(config, list(files), format_, pattern, timezone, max_line_bytes, rules)
    if output == "json":
        for event in result.events:
            click.echo(orjson.dumps(event.to_dict()).decode())
    else:
        click.echo(_text(result), nl=False)
