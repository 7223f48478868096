"""``loglens generate``: realistic, reproducible synthetic log traffic with staged incidents."""

from __future__ import annotations

import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from loglens.clock import SystemClock
from loglens.errors import ConfigError, LoglensError
from loglens.generate.curves import PROFILES
from loglens.generate.engine import Generator, Settings
from loglens.generate.formats import ACCESS_FORMATS, FORMATS, LEVEL_STYLES
from loglens.generate.outputs import ROTATE_MODES, open_output
from loglens.generate.scenarios import KINDS, Kind, Scenario, parse_scenario, parse_seconds
from loglens.options import examples

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)


def _scenarios(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Scenario, ...]:
    try:
        return tuple(parse_scenario(v) for v in values)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def _seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_seconds(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("must be > 0")
    return seconds


def _start(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time (e.g. 2025-01-01T00:00:00Z)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _bytes(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    match = _SIZE.match(value)
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{value!r} is not a size > 0 (e.g. 1048576, 512k, 10M)")
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise click.BadParameter("must be > 0")
    return value


def _check(fmt: str, kind: str | None, level_style: str | None, durations: bool) -> bool:
    """Validate the format options together; return whether records are application records."""
    app = fmt == "level" or kind == "app"
    if fmt == "level" and kind == "access":
        raise click.BadParameter("the level format only has application records", param_hint="--kind")
    if kind == "app" and fmt in ACCESS_FORMATS and fmt != "json":
        raise click.BadParameter(
            f"application records are written as level or json, not {fmt}", param_hint="--kind"
        )
    if level_style and fmt != "level":
        raise click.BadParameter("only applies to --format level", param_hint="--level-style")
    if durations and (app or fmt not in ("combined", "json")):
        raise click.BadParameter(
            "needs --format combined or json with access records", param_hint="--durations"
        )
    return app


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Turn Ctrl-C and SIGTERM into a stop request the run loop polls, so the run ends between lines."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _write_timeline(generator: Generator, path: Path | None) -> None:
    info = generator.timeline()
    if path is not None:
        path.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2) + b"\n")
        return
    scenarios: Any = info["scenarios"]
    if not scenarios:
        return
    profile = "" if info["profile"] == "flat" else f" profile {info['profile']}"
    click.echo(
        f"timeline: origin {info['origin']} rate {info['rate']}/s{profile} seed {info['seed']}", err=True
    )
    for entry in scenarios:
        params = " ".join(f"{k}={v}" for k, v in entry["params"].items())
        click.echo(
            f"timeline: {entry['name']} {entry['start']} .. {entry['end']} {params}".rstrip(), err=True
        )


def _kind_help(name: str, kind: Kind) -> str:
    params = ", ".join(f"{p}={v}" for p, v in kind.params.items() if v != "")
    return f"{name} (@{kind.start:g}+{kind.duration:g}: {params}) {kind.about}"


_SCENARIO_HELP = "; ".join(_kind_help(name, kind) for name, kind in KINDS.items())


@click.command(
    "generate",
    epilog=examples(
        "loglens generate --rate 200 --scenario spike@60+30 -o access.log",
        "loglens generate --profile diurnal --start 2026-12-01T00:00:00Z --duration 1d --rate 5 -o day.log",
        "loglens generate --format level --rate 100 --output http://127.0.0.1:9911/api/logs",
    ),
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="combined",
    show_default=True,
    help="Line format.",
)
@click.option(
    "--kind",
    type=click.Choice(["access", "app"]),
    default=None,
    help="Record kind for json: access (default) or app (application records).",
)
@click.option(
    "--level-style",
    type=click.Choice(LEVEL_STYLES),
    default=None,
    help="Shape of level lines (default iso: LEVEL ISO-TIME message).",
)
@click.option("--durations", is_flag=True, help="Add request durations (combined: seconds after the agent).")
@click.option(
    "-r",
    "--rate",
    type=float,
    default=10.0,
    show_default=True,
    callback=_positive,
    help="Lines per second (event time); with --profile diurnal or weekly, the mean over a day or week.",
)
@click.option(
    "--profile",
    type=click.Choice(list(PROFILES)),
    default="flat",
    show_default=True,
    help="Traffic over the day, by the lines' UTC time: flat (steady), diurnal (low around 04:00, high "
    "from noon to evening), weekly (diurnal, weekends at 70%).",
)
@click.option("-n", "--count", type=click.IntRange(min=1), default=None, help="Stop after this many lines.")
@click.option(
    "-d",
    "--duration",
    callback=_seconds,
    default=None,
    help="Stop after this much event time: seconds or 30s, 15m, 2h, 1d.",
)
@click.option(
    "--start",
    callback=_start,
    default=None,
    help="Event time of the first line (ISO-8601, UTC if no offset). Writes as fast as possible "
    "unless --speed is given.",
)
@click.option(
    "--speed",
    type=float,
    default=None,
    callback=_positive,
    help="Pace the output at this many event seconds per wall second (default 1 without --start).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Random seed; with --start the output is byte-for-byte reproducible.",
)
@click.option(
    "-s",
    "--scenario",
    "scenarios",
    multiple=True,
    callback=_scenarios,
    help=f"Incident NAME[@START[+DURATION]][:key=value,...], repeatable. {_SCENARIO_HELP}.",
)
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the run and scenario timeline as JSON here instead of to stderr.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="'-' (stdout), a file (appended), a folder, or an http(s):// URL to POST batches to.",
)
@click.option(
    "--streams",
    type=click.IntRange(min=1),
    default=None,
    help="Spread lines over N streams: stream-K.log files in the output folder, or N HTTP sources.",
)
@click.option(
    "--rotate-bytes",
    callback=_bytes,
    default=None,
    help="Rotate a file before it would pass this size (e.g. 1048576, 512k, 10M).",
)
@click.option(
    "--rotate-mode",
    type=click.Choice(ROTATE_MODES),
    default="rename",
    show_default=True,
    help="rename: x.log -> x.log.1; copytruncate: copy to x.log.1, truncate x.log in place.",
)
@click.option(
    "--rotate-keep",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Rotated files to keep (x.log.1 .. x.log.N); 0 keeps all.",
)
@click.option("--source", default="generate", show_default=True, help="Source name sent with HTTP batches.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Lines per HTTP request at most.",
)
@click.option(
    "--token",
    default=None,
    envvar="LOGLENS_GENERATE_TOKEN",
    help="Bearer token for the HTTP output (env LOGLENS_GENERATE_TOKEN).",
)
def generate(
    fmt: str,
    kind: str | None,
    level_style: str | None,
    durations: bool,
    rate: float,
    profile: str,
    count: int | None,
    duration: float | None,
    start: float | None,
    speed: float | None,
    seed: int | None,
    scenarios: tuple[Scenario, ...],
    timeline: Path | None,
    output: str,
    streams: int | None,
    rotate_bytes: int | None,
    rotate_mode: str,
    rotate_keep: int,
    source: str,
    batch_size: int,
    token: str | None,
) -> None:
    """Write realistic synthetic access or application logs, with incidents on a timeline.

    Without --count or --duration it runs until interrupted (Ctrl-C stops it cleanly).
    """
    app = _check(fmt, kind, level_style, durations)
    settings = Settings(
        fmt=fmt,
        app=app,
        level_style=level_style or "iso",
        durations=durations,
        rate=rate,
        profile=profile,
        count=count,
        duration=duration,
        start=start,
        speed=speed,
        seed=secrets.randbits(31) if seed is None else seed,
        scenarios=scenarios,
    )
    clock = SystemClock()
    generator = Generator(settings, settings.start if settings.start is not None else clock.now())
    try:
        out = open_output(
            output,
            streams=streams,
            rotate_bytes=rotate_bytes,
            rotate_mode=rotate_mode,
            rotate_keep=rotate_keep,
            source=source,
            batch_size=batch_size,
            token=token,
            sleep=clock.sleep,
        )
        _write_timeline(generator, timeline)
    except OSError as exc:
        raise LoglensError(f"cannot write {exc.filename or output}: {exc.strerror}") from None
    try:
        with _stop_on_signals() as stop:
            try:
                generator.run(out, clock, stop.is_set)
            finally:
                out.close()
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        raise LoglensError(f"cannot write {exc.filename or output}: {exc.strerror}") from None
