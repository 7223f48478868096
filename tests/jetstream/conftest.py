"""A real ``nats-server -js`` for the NATS tests, on free ports with a store folder of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jetstream.fleet import NatsServer
from support import require_tool


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A running ``nats-server -js`` (Debian's ``nats-server``), stopped after the test."""
    server = NatsServer(require_tool("nats-server", "nats-server"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
