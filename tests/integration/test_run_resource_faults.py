"""A real ``loglens run`` short of resources: connections, descriptors, its checkpoint, its state folder."""

from __future__ import annotations

import random
import resource
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from server.agent_helpers import AgentProcess, lines_total, wait_for, without_file_permission_bypass
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
        slow_body.sendall(
            b"POST /api/metrics HTTP/1.1\r\nHost: loglens\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
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


def _read_only(db: Path) -> None:
    db.chmod(0o444)


def _random_bytes(db: Path) -> None:
    db.write_bytes(random.Random(7).randbytes(db.stat().st_size))


def _cut_in_half(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _another_version(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE state SET value = '3' WHERE key = 'version'")


def _foreign_values(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE state SET value = '{\"files\": 5}' WHERE key = 'source:files'")


def _saves(agent: AgentProcess) -> int:
    return int(httpx.get(f"{agent.url}/api/status", timeout=5).json()["checkpoint"]["saves"])


DAMAGES = [_read_only, _random_bytes, _cut_in_half, _another_version, _foreign_values]


@pytest.mark.parametrize("damage", DAMAGES)
def test_an_unusable_checkpoint_is_one_line_and_exit_2_then_reset_state_starts_afresh(
    logs: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    write_lines(logs / "a.log", 0, 100)
    state = tmp_path / "state"
    args = [str(logs / "*.log"), "--state-dir", str(state), "--from-start"]
    first = AgentProcess(args, tmp_path / "first.out")
    wait_for(lambda: _saves(first), what="a checkpoint saved")
    assert first.stop() == 0
    db = state / "checkpoint.sqlite3"
    damage(db)
    fenced = without_file_permission_bypass  # so that a read-only file is read-only to this root
    broken = AgentProcess(args, tmp_path / "broken.out", preexec_fn=fenced, wait=False)
    assert broken.wait() == 2
    [message] = broken.output().splitlines()
    assert message.startswith(f"loglens: checkpoint {db} ")
    assert message.endswith("--reset-state to start afresh")
    again = AgentProcess([*args, "--reset-state"], tmp_path / "again.out", preexec_fn=fenced)
    try:
        wait_for(lambda: lines_total(again.url).get(str(logs / "a.log")) == 100, what="the lines read afresh")
        wait_for(lambda: _saves(again), what="a checkpoint saved")
    finally:
        assert again.stop() == 0
    assert [p.name.split(".aside-")[0] for p in state.glob("*.aside-*")][:1] == ["checkpoint.sqlite3"]
    assert "moved aside" in again.output()
