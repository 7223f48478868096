"""The programs ``loglens stack`` runs: each one's binary, default port, and arguments.

A new part of the stack (a NATS server, say) is one more :class:`Component` in :data:`COMPONENTS`:
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


PROMETHEUS = Component("prometheus", ("prometheus",), "prometheus", 9090, _prometheus)
ALERTMANAGER = Component(
    "alertmanager",
    ("alertmanager", "prometheus-alertmanager"),
    "prometheus-alertmanager",
    9093,
    _alertmanager,
)
#: Started in this order, stopped in the reverse one.
COMPONENTS: tuple[Component, ...] = (ALERTMANAGER, PROMETHEUS)
