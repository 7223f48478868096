"""``loglens stack up|down|status``: Prometheus and Alertmanager from local binaries, deploy/'s configs."""

from __future__ import annotations

from pathlib import Path

import click

from loglens.config import load_settings
from loglens.errors import LoglensError
from loglens.options import config_option, examples, state_dir_option
from loglens.stack.components import COMPONENTS, NATS, NATS_URL_FILE
from loglens.stack.configs import deploy_folder
from loglens.stack.processes import alive, down, read_record, ready, up

_PORT = click.IntRange(0, 65535)


def _folder(config: Path | None, state_dir: Path | None) -> Path:
    """``{state.dir}/stack``: the state folder as ``loglens run`` picks it, from the same options."""
    return (state_dir if state_dir is not None else load_settings(config).state.dir) / "stack"


def _loglens_target(config: Path | None, given: str | None) -> str:
    """``HOST:PORT`` Prometheus scrapes: ``given``, else the listen address of the settings (an address
    on every interface is scraped on 127.0.0.1)."""
    if given is not None:
        return given
    server = load_settings(config).server
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::", "") else server.host
    return f"[{host}]:{server.port}" if ":" in host else f"{host}:{server.port}"


@click.group(
    "stack",
    epilog=examples("loglens stack up", "loglens stack status", "loglens stack down"),
)
def stack() -> None:
    """Prometheus and Alertmanager for loglens, without Docker: the installed binaries, run with the
    shipped configurations (deploy/) under the state folder."""


@stack.command(
    "up",
    short_help="Start Prometheus and Alertmanager; print their URLs.",
    epilog=examples(
        "loglens stack up",
        "loglens stack up --prometheus-port 0 --alertmanager-port 0 --loglens 127.0.0.1:9912",
        "loglens stack up --config loglens.yaml",
    ),
)
@config_option()
@state_dir_option()
@click.option(
    "--loglens",
    "target",
    metavar="HOST:PORT",
    help="The loglens Prometheus scrapes [default: the settings' server.listen, 127.0.0.1:9911].",
)
@click.option("--prometheus-port", type=_PORT, help="0: any free port [default: 9090 when free, else any].")
@click.option("--alertmanager-port", type=_PORT, help="0: any free port [default: 9093 when free, else any].")
@click.option(
    "--nats",
    "with_nats",
    is_flag=True,
    help="Also start nats-server -js, for agents and processors (docs/scale.md); its client URL is printed.",
)
@click.option(
    "--deploy",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the shipped configurations [default: the checkout's deploy/].",
)
def up_command(
    config: Path | None,
    state_dir: Path | None,
    target: str | None,
    prometheus_port: int | None,
    alertmanager_port: int | None,
    with_nats: bool,
    deploy: Path | None,
) -> None:
    """Start Prometheus (scraping loglens, with the recording and alerting rules) and Alertmanager, in
    the background under {state folder}/stack, wait until both are ready, and print their URLs.

    The binaries are looked up on PATH: prometheus, and alertmanager or prometheus-alertmanager (Debian's
    packages prometheus and prometheus-alertmanager). Their data stay in the folder across restarts.
    """
    folder = _folder(config, state_dir)
    ports = {"prometheus": prometheus_port, "alertmanager": alertmanager_port}
    scraped = _loglens_target(config, target)
    components = (*COMPONENTS, NATS) if with_nats else COMPONENTS
    running = up(folder, deploy_folder(deploy), scraped, ports, components=components)
    for item in running:
        click.echo(f"{item.name:<13} {item.url}  (pid {item.pid}, log {item.log})")
    if with_nats:
        url = (folder / NATS_URL_FILE).read_text(encoding="utf-8").strip()
        click.echo(f"NATS clients connect to {url}: loglens run --publish {url} / --consume {url}")
    click.echo(f"Prometheus scrapes loglens at {scraped}; stop the stack with: loglens stack down"
               + ("" if state_dir is None else f" --state-dir {state_dir}"))  # fmt: skip


@stack.command(
    "status",
    short_help="Show whether each part runs, with its URL.",
    epilog=examples("loglens stack status", "loglens stack status --state-dir /var/lib/loglens"),
)
@config_option()
@state_dir_option()
def status_command(config: Path | None, state_dir: Path | None) -> None:
    """One line per program of the stack: its URL and whether it runs and answers. Exit status 1 when
    the stack is not running whole."""
    folder = _folder(config, state_dir)
    running = read_record(folder)
    if not running:
        raise LoglensError(f"the stack is not running (nothing started in {folder})")
    whole = True
    for item in running:
        if not alive(item.pid, item.binary):
            state, whole = "stopped", False
        elif ready(item):
            state = f"running (pid {item.pid})"
        else:
            state, whole = f"not ready (pid {item.pid})", False
        click.echo(f"{item.name:<13} {item.url}  {state}")
    if not whole:
        raise LoglensError("the stack is not running whole: loglens stack down, then up")


@stack.command(
    "down",
    short_help="Stop Prometheus and Alertmanager.",
    epilog=examples("loglens stack down", "loglens stack down --state-dir /var/lib/loglens"),
)
@config_option()
@state_dir_option()
def down_command(config: Path | None, state_dir: Path | None) -> None:
    """Stop the programs of the stack (SIGTERM, then SIGKILL after 30 s); their data stay."""
    stopped = down(_folder(config, state_dir))
    if not stopped:
        click.echo("the stack was not running")
    for item in stopped:
        click.echo(f"stopped {item.name} (pid {item.pid})")
