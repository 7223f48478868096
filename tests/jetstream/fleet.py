"""A real ``nats-server -js``, and agents and processors as real ``loglens run`` processes, for the NATS
tests; what they report."""

from __future__ import annotations

import gzip
import os
import subprocess
from collections import Counter
from pathlib import Path

import httpx

from server.agent_helpers import LOGLENS, AgentProcess, scrape, wait_for
from support import free_port

#: What every process of a test runs with: short waits, so redeliveries come within the test's time.
ENV = {
    "LOGLENS__NATS__CONSUMER__ACK_WAIT_SECONDS": "4",
    "LOGLENS__STATE__CHECKPOINT_INTERVAL_SECONDS": "0.5",
}


def generate(path: Path, count: int, seed: int) -> None:
    """``loglens generate`` ``count`` combined lines into ``path``."""
    subprocess.run(
        [LOGLENS, "generate", "--count", str(count), "--seed", str(seed), "--start", "2025-04-01T00:00:00Z",
         "-o", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip


def agent(tmp: Path, name: str, logs: Path, url: str, env: dict[str, str] | None = None) -> AgentProcess:
    """An agent following ``logs/*.log`` from their start, publishing to ``url``."""
    args = [str(logs / "*.log"), "--from-start", "--publish", url, "--state-dir", str(tmp / name)]
    return AgentProcess(args, tmp / f"{name}.out", env={**os.environ, **ENV, **(env or {})})


def processor(tmp: Path, name: str, url: str) -> AgentProcess:
    """A processor consuming ``url``, its state (and archive) in ``tmp/name``."""
    args = ["--consume", url, "--state-dir", str(tmp / name), "--instance", name]
    return AgentProcess(args, tmp / f"{name}-{len(list(tmp.glob(f'{name}*.out')))}.out",
                        env={**os.environ, **ENV})  # fmt: skip


def metric(url: str, name: str) -> float:
    """The sum of every sample of ``name`` on ``url``'s /metrics."""
    return sum(value for (sample, _), value in scrape(url).items() if sample == name)


def lines_counted(processors: list[AgentProcess]) -> int:
    """``loglens_lines_total`` summed over the running processors."""
    return int(sum(metric(p.url, "loglens_lines_total") for p in processors if p.process.poll() is None))


def archived_lines(state: Path) -> Counter[str]:
    """Every line in the archive folder of one processor's state folder."""
    lines: Counter[str] = Counter()
    for segment in sorted((state / "archive").rglob("*.log.gz")):
        with gzip.open(segment, "rt", encoding="utf-8") as handle:
            lines.update(line.rstrip("\n") for line in handle)
    return lines


def written_lines(logs: Path) -> Counter[str]:
    """Every line of the logs written."""
    lines: Counter[str] = Counter()
    for path in logs.glob("*.log"):
        with open(path, encoding="utf-8") as handle:
            lines.update(line.rstrip("\n") for line in handle)
    return lines


class NatsServer:
    """``nats-server -js`` on 127.0.0.1, restartable on the same port and store folder."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port, self.monitor = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until its JetStream answers (``/healthz``). A first start whose port was
        taken meanwhile (a free port is free only when it is picked) tries two others."""
        for attempt in range(3):
            self.starts += 1
            log = self.folder / f"nats-{self.starts}.log"
            with open(log, "wb") as output:  # the child keeps its own descriptor
                self.process = subprocess.Popen(
                    [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor),
                     "-sd", str(self.folder / "store")],
                    stdout=output, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                wait_for(self._healthy, timeout=30, what="nats-server to be ready")
                return
            except AssertionError:
                said = log.read_text(errors="replace")
                if self.starts > attempt + 1 or attempt == 2 or "address already in use" not in said:
                    raise AssertionError(f"nats-server did not start: {said[-600:]}") from None
                self.port, self.monitor = free_port(), free_port()

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"nats-server exited with {self.process.returncode}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.monitor}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop it (SIGTERM: JetStream syncs its store)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def stream(self, name: str = "LOGLENS") -> dict[str, int]:
        """The stream's state (``messages``, ``bytes``, ...), from the monitoring port's ``/jsz``."""
        answer = httpx.get(f"http://127.0.0.1:{self.monitor}/jsz?streams=true", timeout=5).json()
        for account in answer.get("account_details", []):
            for stream in account.get("stream_detail", []):
                if stream["name"] == name:
                    state: dict[str, int] = stream["state"]
                    return state
        return {}
