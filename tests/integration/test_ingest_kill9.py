"""``kill -9`` of a real ``loglens run`` while four clients post bulk requests: after a restart, every line
of every request answered 200 is counted and archived, once, and of the requests cut off, each is counted
and archived whole or not at all."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from server.agent_helpers import AgentProcess, lines_total, wait_for

pytestmark = pytest.mark.integration
LOGLENS = Path(sys.executable).parent / "loglens"

#: Lines per request of each client; each client is its own source, so its count after the restart says
#: whether its cut-off request was made durable (whole) or not (not at all).
SIZES = (25, 50, 100, 200)
LINE = '10.2.{c}.{n} - - [01/Dec/2026:07:56:{s:02d} +0000] "GET /item/{n} HTTP/1.1" 200 {n}'


def _line(client: int, n: int) -> str:
    return LINE.format(c=client, n=n, s=n % 60)


class Client(threading.Thread):
    """Posts requests of one size until the server goes away; counts the lines answered 200."""

    def __init__(self, url: str, number: int) -> None:
        super().__init__(daemon=True)
        self.url, self.number, self.size = url, number, SIZES[number]
        self.acknowledged = 0
        self.cut_off = False  # the last request got no answer

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            for request in itertools.count():
                lines = [_line(self.number, request * self.size + i) for i in range(self.size)]
                try:
                    answer = http.post("/api/logs", params={"source": f"client{self.number}"},
                                       content=("\n".join(lines) + "\n").encode())  # fmt: skip
                except httpx.TransportError:
                    self.cut_off = True
                    return
                assert answer.status_code == 200, answer.text
                self.acknowledged += self.size


@pytest.mark.parametrize("after", [400, 3000])
def test_every_acknowledged_line_is_counted_once_after_kill_9(tmp_path: Path, after: int) -> None:
    state = tmp_path / "state"
    first = AgentProcess(["--state-dir", str(state)], tmp_path / "first.log")
    clients = [Client(first.url, n) for n in range(len(SIZES))]
    for client in clients:
        client.start()
    wait_for(
        lambda: sum(c.acknowledged for c in clients) >= after, timeout=60, what=f"{after} lines acknowledged"
    )
    first.process.send_signal(signal.SIGKILL)
    first.wait()
    for client in clients:
        client.join(timeout=30)
        assert not client.is_alive()
    second = AgentProcess(["--state-dir", str(state)], tmp_path / "second.log")
    try:
        # the spool is read in order: once a line sent now is counted, every line before it is
        assert httpx.post(f"{second.url}/api/logs?source=marker", content=b"x\n").status_code == 200
        wait_for(lambda: lines_total(second.url).get("marker") == 1, what="the marker line counted")
        counted = lines_total(second.url)
    finally:
        second.stop()
    archive = [str(LOGLENS), "archive", "cat", "--state-dir", str(state)]
    archived = subprocess.run(
        archive, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    for client in clients:
        got = counted.get(f"client{client.number}", 0)
        allowed = (
            {client.acknowledged, client.acknowledged + client.size}
            if client.cut_off
            else {client.acknowledged}
        )
        assert got in allowed, (client.number, got, allowed)
        mine = [line for line in archived if line.startswith(f"10.2.{client.number}.")]
        assert len(mine) == len(set(mine)) == got  # archived once each, as many as counted
        assert set(mine) >= {_line(client.number, n) for n in range(client.acknowledged)}
