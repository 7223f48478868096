"""A real ``loglens run`` short of resources: connections, descriptors, its checkpoint, its state folder."""

from __future__ import annotations

import resource
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from server.agent_helpers import AgentProcess, lines_total, wait_for
from sources.tail_helpers import write_lines

pytestmark = pytest.mark.integration


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    folder.mkdir()
    yield folder


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def _closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(30)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_idle_and_slow_connections_leave_metrics_answering(logs: Path, tmp_path: Path) -> None:
    write_lines(logs / "a.log", 0, 5)
    config = tmp_path / "loglens.yaml"
    config.write_text("server:\n  request_timeout_seconds: 1\n", encoding="utf-8")
    args = [str(logs / "*.log"), "--config", str(config), "--state-dir", str(tmp_path / "state")]
    agent = AgentProcess([*args, "--from-start"], tmp_path / "out", preexec_fn=_limit_descriptors)
    address = urlsplit(agent.url)
    host, port = address.hostname or "", address.port or 0
    idle = []
    try:
        for _ in range(1100):  # connect without waiting: a server that stops accepting cannot stall the test
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((host, port))
            idle.append(sock)
        slow_headers = socket.create_connection((host, port), timeout=5)
        slow_headers.sendall(b"GET /metrics HTTP/1.1\r\nHost: loglens\r\n")
        slow_body = socket.create_connection((host, port), timeout=5)
        slow_body.sendall(b"POST /api/metrics HTTP/1.1\r\nHost: loglens\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100\r\n\r\n{")
        write_lines(logs / "a.log", 5, 5)
        source = str(logs / "a.log")
        wait_for(lambda: lines_total(agent.url).get(source) == 10, what="10 lines on /metrics in the flood")
        assert _closed_by_peer(slow_headers) and _closed_by_peer(slow_body)
        for _ in range(3):
            assert httpx.get(f"{agent.url}/metrics", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()
        assert agent.stop() == 0
    output = agent.output().splitlines()
    assert len(output) < 5, output[:20]
