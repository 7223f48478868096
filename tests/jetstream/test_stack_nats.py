"""``loglens stack up --nats``: a real nats-server with JetStream beside Prometheus and Alertmanager."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import nats
import pytest

from server.agent_helpers import LOGLENS
from support import require_tool

pytestmark = pytest.mark.integration


async def _jetstream_answers(url: str) -> bool:
    client = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        info = await client.jetstream().account_info()
        return info is not None
    finally:
        await client.close()


def test_stack_up_with_nats_serves_jetstream_and_down_stops_it(tmp_path: Path) -> None:
    for name, package in (("nats-server", "nats-server"), ("prometheus", "prometheus")):
        require_tool(name, package)
    state = ["--state-dir", str(tmp_path)]
    ports = ["--prometheus-port", "0", "--alertmanager-port", "0"]
    up = subprocess.run([LOGLENS, "stack", "up", "--nats", *ports, *state], capture_output=True, text=True,
                        timeout=120)  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        (url,) = re.findall(r"NATS clients connect to (nats://[\d.:]+):", up.stdout)
        assert asyncio.run(_jetstream_answers(url))
        status = subprocess.run(
            [LOGLENS, "stack", "status", *state], capture_output=True, text=True, timeout=60
        )
        assert re.search(r"^nats\s+http://\S+\s+running", status.stdout, re.M), status.stdout
    finally:
        down = subprocess.run([LOGLENS, "stack", "down", *state], capture_output=True, text=True, timeout=120)
    assert "stopped nats" in down.stdout
