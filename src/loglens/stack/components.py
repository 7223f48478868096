"""The programs ``loglens stack`` runs: each one's binary, default port, and arguments.

A new part of the stack is one more :class:`Component` in :data:`COMPONENTS` (or, asked for, as
:data:`NATS` is, beside them):
its binary names, its Debian package, its port, and a function that writes its configuration into the
stack's folder and returns its arguments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loglens.errors import LoglensError
from loglens.stack.configs import Addresses, alertmanager_config, prometheus_config
from loglens.stack.ports import any_port, port_free


@dataclass(frozen=True)
class Layout:
    """Where the stack lives and what it talks to."""

    folder: Path  # {state.dir}/stack: configurations, data, logs, the record of what runs
    deploy: Path  # the shipped configurations
    addresses: Addresses


@dataclass(frozen=True)
class Component:
    """One program of the stack.

    Attributes:
        name: what it is called in output and in the stack's record.
        binaries: the program's names to look up on PATH, in order.
        apt_package: the Debian package that installs it.
        default_port: its port when free and none is given.
        arguments: writes its configuration under ``layout.folder`` and returns its arguments (after the
            binary) to listen on ``listen``.
        ready_path: answers 200 once it serves.
    """

    name: str
    binaries: tuple[str, ...]
    apt_package: str
    default_port: int
    arguments: Callable[[Layout, str], list[str]]
    ready_path: str = "/-/ready"

    def binary(self) -> str:
        """Path of its program.

        Raises:
            LoglensError: none of its names is on PATH.
        """
        for name in self.binaries:
            found = shutil.which(name)
            if found is not None:
                return found
        names = " or ".join(self.binaries)
        raise LoglensError(f"{names} not found on PATH: install it (apt-get install {self.apt_package})")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _prometheus(layout: Layout, listen: str) -> list[str]:
    config = _write(layout.folder / "prometheus.yml", prometheus_config(layout.deploy, layout.addresses))
    return [
        f"--config.file={config}",
        f"--storage.tsdb.path={layout.folder / 'prometheus-data'}",
        f"--web.listen-address={listen}",
    ]


def _alertmanager(layout: Layout, listen: str) -> list[str]:
    config = _write(layout.folder / "alertmanager.yml", alertmanager_config(layout.deploy))
    return [
        f"--config.file={config}",
        f"--storage.path={layout.folder / 'alertmanager-data'}",
        f"--web.listen-address={listen}",
        "--cluster.listen-address=",  # one Alertmanager, no gossip port
    ]


#: The NATS client port ``loglens stack up --nats`` asks for when it is free.
NATS_CLIENT_PORT = 4222
#: The file of the stack's folder that holds the NATS server's client URL.
NATS_URL_FILE = "nats.url"


def _nats(layout: Layout, listen: str) -> list[str]:
    """nats-server with JetStream: its monitoring port is the component's (``/healthz``), its client port
    4222 when free (else any), written to ``nats.url`` in the stack's folder."""
    host, _ = listen.rsplit(":", 1)
    client = NATS_CLIENT_PORT if port_free(NATS_CLIENT_PORT) else any_port()
    _write(layout.folder / NATS_URL_FILE, f"nats://{host}:{client}\n")
    return ["-js", "-a", host, "-p", str(client), "-m", listen.rsplit(":", 1)[1],
            "-sd", str(layout.folder / "nats-data")]  # fmt: skip


PROMETHEUS = Component("prometheus", ("prometheus",), "prometheus", 9090, _prometheus)
ALERTMANAGER = Component(
    "alertmanager",
    ("alertmanager", "prometheus-alertmanager"),
    "prometheus-alertmanager",
    9093,
    _alertmanager,
)
#: ``loglens stack up --nats``: the JetStream server agents publish to and processors consume from.
NATS = Component("nats", ("nats-server",), "nats-server", 8222, _nats, ready_path="/healthz")
#: Started in this order, stopped in the reverse one.
COMPONENTS: tuple[Component, ...] = (ALERTMANAGER, PROMETHEUS)
