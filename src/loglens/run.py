"""``loglens run``: follow log files and serve ``/metrics`` and the API until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from loglens.agent import Agent
from loglens.config import Settings, load_settings
from loglens.options import (
    config_option,
    examples,
    format_option,
    from_start_option,
    listen_option,
    log_level_option,
    max_line_bytes_option,
    pattern_option,
    setup_logging,
    state_dir_option,
    timezone_option,
)
from loglens.state.checkpoint import set_aside

log = logging.getLogger("loglens")


def run_until_signal(agent: Agent) -> None:
    """Start ``agent``, serve until SIGINT or SIGTERM, then stop it gracefully (final checkpoint).

    A second signal during the shutdown takes the default action (the process ends at once).
    Call from the main thread.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: saving a last checkpoint and stopping", signal.Signals(signum).name)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = False
    try:
        agent.start()  # (when it fails, nothing was started: nothing to stop)
        started = True
        settings = agent.settings
        log.info(
            "following %d source(s); metrics on %s/metrics, status on %s/api/status; state folder %s",
            len(agent.follower.specs),
            agent.url,
            agent.url,
            settings.state.dir,
        )
        while not stop.wait(0.5):
            pass
    finally:
        if started:
            agent.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_settings(
    paths: tuple[str, ...] = (),
    config: Path | None = None,
    listen: str | None = None,
    state_dir: Path | None = None,
    format_: str | None = None,
    pattern: str | None = None,
    from_start: bool | None = None,
    timezone: str | None = None,
    max_line_bytes: int | None = None,
    syslog: tuple[str, ...] = (),
    nats: dict[str, str] | None = None,
) -> Settings:
    """Settings for ``loglens run``: the config file < environment < these flags.

    Paths given here replace the file's ``sources``, ``--syslog`` addresses the file's
    ``syslog.listen``, and ``nats`` (``publish``, ``consume``, ``instance``) the file's ``nats:``.
    """
    parse = {"format": format_, "pattern": pattern, "timezone": timezone, "max_line_bytes": max_line_bytes}
    overrides: dict[str, Any] = {
        "server": {"listen": listen} if listen else None,
        "state": {"dir": state_dir} if state_dir else None,
        "parse": {k: v for k, v in parse.items() if v is not None} or None,
        "tail": {"from_start": from_start} if from_start is not None else None,
        "sources": [{"path": path} for path in paths] if paths else None,
        "syslog": {"listen": list(syslog)} if syslog else None,
        "nats": nats or None,
    }
    return load_settings(config, **overrides)


def warn_if_exposed(settings: Settings) -> None:
    """One line when the server is reachable from other machines and a write endpoint asks for no token."""
    if settings.server.loopback:
        return
    open_ = [] if settings.push.token else ["push.token (LOGLENS__PUSH__TOKEN)"]
    if settings.ingest.enabled and not settings.ingest.token:
        open_.append("ingest.token (LOGLENS__INGEST__TOKEN)")
    if open_:
        log.warning(
            "listening on %s, beyond this machine, with no token: anyone who reaches it can push "
            "metrics or send lines (set %s)",
            settings.server.listen,
            " and ".join(open_),
        )


@click.command(
    "run",
    epilog=examples(
        "loglens run /var/log/nginx/access.log '/var/log/app/*.log'",
        "loglens run --config loglens.yaml --syslog udp://127.0.0.1:5514 --syslog tcp://127.0.0.1:5514",
        "loglens run /var/log/nginx/access.log --publish nats://10.0.0.5:4222   # then: run --consume",
    ),
)
@click.argument("paths", nargs=-1, metavar="[FILE|GLOB|DIR]...")
@config_option()
@listen_option()
@state_dir_option()
@format_option(default=None)
@pattern_option()
@timezone_option()
@max_line_bytes_option()
@from_start_option("Read files present at the first start from their beginning (default: from their end).")
@click.option(
    "--syslog",
    multiple=True,
    metavar="udp://HOST:PORT|tcp://HOST:PORT",
    help="Listen for syslog messages (RFC 5424 and 3164) there; repeatable (syslog.listen).",
)
@click.option(
    "--publish",
    metavar="nats://HOST:PORT",
    help="An agent: publish every batch of lines to NATS JetStream there (nats.publish; docs/scale.md).",
)
@click.option(
    "--consume",
    metavar="nats://HOST:PORT",
    help="A processor: consume the batches agents publish there, shared by processors (nats.consume).",
)
@click.option(
    "--instance",
    metavar="NAME",
    help="A processor's `instance` label on /metrics (nats.instance; default: HOST:PORT).",
)
@click.option(
    "--reset-state",
    is_flag=True,
    help="Move the state folder's checkpoint aside (checkpoint.sqlite3.aside-TIME) and start afresh.",
)
@log_level_option()
def run_command(
    paths: tuple[str, ...],
    config: Path | None,
    listen: str | None,
    state_dir: Path | None,
    format_: str | None,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    from_start: bool | None,
    syslog: tuple[str, ...],
    publish: str | None,
    consume: str | None,
    instance: str | None,
    reset_state: bool,
    log_level: str,
) -> None:
    """Follow log files as they are written and serve /metrics, /api/status and /api/insights.

    Files, globs and folders are followed; rotation (rename, copytruncate, symlink switch), truncation
    and deletion are handled. Offsets and counter totals are checkpointed together every second and at
    shutdown, so a restart, even after kill -9, counts every line exactly once.
    """
    setup_logging(log_level)
    nats = {key: value for key, value in (("publish", publish), ("consume", consume), ("instance", instance))
            if value is not None}  # fmt: skip
    settings = run_settings(
        paths, config, listen, state_dir, format_, pattern, from_start, timezone, max_line_bytes, syslog, nats
    )
    if settings.nats.consume:
        log.info("consuming the batches of %s as a processor", settings.nats.consume)
    elif not settings.sources:
        log.warning("no sources given: serving the push and ingest APIs only")
    warn_if_exposed(settings)
    agent = Agent(settings)
    if reset_state:
        aside = set_aside(settings.state.dir)
        if aside is not None:
            log.warning("moved aside the checkpoint of %s to %s; starting afresh", settings.state.dir, aside)
    run_until_signal(agent)
