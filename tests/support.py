"""Shared test helpers: paths to test data and the rule for external tools (skip locally, fail under CI)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

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
