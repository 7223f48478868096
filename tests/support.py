"""Shared test helpers: paths to test data and the rule for external tools (skip locally, fail under CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"


def require_tool(name: str, apt_package: str) -> str:
    """Path of an external program; skip (or fail when ``CI=true``) if it is not installed."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed: apt-get install {apt_package} (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


#: Where ``make node-clients`` installs the npm packages the protocol tests run.
NODE_CLIENTS = Path(__file__).resolve().parent.parent / ".cache" / "node"


def node_client(package: str) -> tuple[str, dict[str, str]]:
    """``node`` and the environment in which it finds ``package`` (installed by ``make node-clients``);
    skip (or fail when ``CI=true``) without them."""
    node = require_tool("node", "nodejs")
    modules = NODE_CLIENTS / "node_modules"
    if not (modules / package / "package.json").exists():
        message = f"npm package {package} not installed: make node-clients (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node, {**os.environ, "NODE_PATH": str(modules)}


#: Where ``make rsyslog`` unpacks rsyslog's packages (it cannot be installed beside syslog-ng).
RSYSLOG = Path(__file__).resolve().parent.parent / ".cache" / "rsyslog"


def rsyslogd() -> list[str]:
    """The command that runs rsyslogd with its modules: installed, or unpacked by ``make rsyslog``; skip
    (or fail when ``CI=true``) without either."""
    installed = shutil.which("rsyslogd")
    if installed is not None:
        return [installed]
    unpacked = RSYSLOG / "usr" / "sbin" / "rsyslogd"
    if unpacked.exists():
        return [str(unpacked), f"-M{next((RSYSLOG / 'usr' / 'lib').glob('*/rsyslog'))}"]
    return [require_tool("rsyslogd", "rsyslog (make rsyslog unpacks it beside syslog-ng)")]


@pytest.fixture
def real_data() -> Path:
    """Folder of the real log samples."""
    return REAL


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (closed again before it is returned)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(
    args: Sequence[str | Path], out: Path, ready_url: str, what: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server program (Prometheus, Alertmanager) for the block, its output in ``out``, once
    ``ready_url`` answers 200; stopped after."""
    from server.agent_helpers import wait_for

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"{what} exited with {process.returncode}: {out.read_text(errors='replace')}"
            )
        try:
            return httpx.get(ready_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    with open(out, "wb") as handle:
        process = subprocess.Popen([str(arg) for arg in args], stdout=handle, stderr=subprocess.STDOUT)
    try:
        wait_for(ready, timeout=60, what=f"{what} to be ready")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
