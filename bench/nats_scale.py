"""Benchmark scaling out over NATS JetStream: one processor on one core against two on one core each.

    python bench/nats_scale.py [--lines 1000000] [--seed 42] [--rounds 1]

A real ``nats-server -js`` on free ports with a store folder of its own. For each round and each setup
(1 processor pinned with ``taskset -c 0``; 2 processors pinned to cores 0 and 1): an agent (``loglens run
--publish``) fills the stream with N combined lines made by ``loglens generate --seed`` and stops; then
the processors start (``loglens run --consume``), and the time runs from when every one of them answers
``/api/health`` until their ``loglens_lines_total`` add up to N. Prints lines/s per setup and the
ratio, and CPU seconds per million lines of each processor and of nats-server over that time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

LOGLENS = str(Path(sys.executable).parent / "loglens")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(url: str, name: str) -> float:
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1.0
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def wait(probe, what: str, timeout: float = 600.0, every: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return time.monotonic()
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(
    args: list[str], port: int, out: Path, env: dict[str, str], core: int | None = None
) -> subprocess.Popen[bytes]:
    pin = ["taskset", "-c", str(core)] if core is not None else []
    with open(out, "wb") as handle:
        return subprocess.Popen(
            [*pin, LOGLENS, "run", *args, "--listen", f"127.0.0.1:{port}"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )


def fill(work: Path, url: str, log: Path, lines: int, name: str) -> None:
    """An agent publishes every line of ``log`` (under host ``name``: fresh batch ids), then stops."""
    port = free_port()
    env = {**os.environ, "LOGLENS__NATS__HOST": name}
    agent = start(
        [str(log), "--from-start", "--publish", url, "--state-dir", str(work / name)],
        port,
        work / f"{name}.out",
        env,
    )
    base = f"http://127.0.0.1:{port}"
    wait(lambda: metric(base, "loglens_nats_published_lines_total") >= lines, f"{name} to publish", every=0.2)
    agent.terminate()
    agent.wait(60)


def run(work: Path, url: str, nats_pid: int, lines: int, cores: list[int], name: str) -> dict[str, float]:
    """Processors pinned to ``cores`` drain the stream: lines/s, CPU s per million lines."""
    procs, urls = [], []
    for index, core in enumerate(cores):
        port = free_port()
        args = ["--consume", url, "--state-dir", str(work / f"{name}-p{index}"), "--instance", f"p{index}"]
        procs.append(start(args, port, work / f"{name}-p{index}.out", dict(os.environ), core))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        began = wait(lambda: all(healthy(u) for u in urls), "the processors to serve", every=0.02)
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        nats0 = cpu_seconds(nats_pid)
        done = wait(
            lambda: sum(max(0.0, metric(u, "loglens_lines_total")) for u in urls) >= lines, "all lines"
        )
        cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        nats_cpu = cpu_seconds(nats_pid) - nats0
        counted = sum(metric(u, "loglens_lines_total") for u in urls)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    seconds = done - began
    result = {
        "seconds": seconds,
        "lines_per_second": lines / seconds,
        "counted": counted,
        "nats_cpu_per_million": nats_cpu / lines * 1e6,
    }
    for index, used in enumerate(cpu):
        result[f"p{index}_cpu_per_million"] = used / lines * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args()
    server = shutil.which("nats-server")
    if server is None:
        raise SystemExit("nats-server not installed: apt-get install nats-server")
    with tempfile.TemporaryDirectory(prefix="loglens-nats-bench-") as tmp:
        work = Path(tmp)
        log = work / "access.log"
        subprocess.run(
            [
                LOGLENS,
                "generate",
                "--count",
                str(options.lines),
                "--seed",
                str(options.seed),
                "--start",
                "2025-04-01T00:00:00Z",
                "-o",
                str(log),
            ],
            check=True,
            capture_output=True,
        )
        port, monitor = free_port(), free_port()
        nats = subprocess.Popen(
            [
                server,
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                str(monitor),
                "-sd",
                str(work / "store"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"nats://127.0.0.1:{port}"
        try:
            wait(lambda: _up(monitor), "nats-server", 30)
            for round_ in range(options.rounds):
                results = {}
                for setup, cores in (("one", [0]), ("two", [0, 1])):
                    fill(work, url, log, options.lines, f"r{round_}-{setup}")
                    results[setup] = run(work, url, nats.pid, options.lines, cores, f"r{round_}-{setup}")
                    print(setup, {k: round(v, 3) for k, v in results[setup].items()}, flush=True)
                ratio = results["two"]["lines_per_second"] / results["one"]["lines_per_second"]
                print(f"round {round_ + 1}: two processors / one = {ratio:.2f}x lines/s", flush=True)
        finally:
            nats.terminate()
            nats.wait(30)


def _up(monitor: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{monitor}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
