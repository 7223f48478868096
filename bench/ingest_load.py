"""Load the ingest endpoints of a real ``loglens run`` over loopback; report what was acknowledged durable.

For ``--seconds`` each phase: client processes send 1,000-line ``text/plain`` requests to
``/api/logs``, then ``wrk`` sends one-line ``{"message": ...}`` requests to ``/log_collector``. Every 200
means the lines were fsynced in the spool. After each phase the script waits until ``/metrics`` counts
every acknowledged line, and reports the rates, the time to count, and the peak RSS of ``loglens run``.

    .venv/bin/python bench/ingest_load.py --seconds 10 --clients 4

Targets (issue 14): /api/logs at least 100,000 lines/s; /log_collector at least 3,000 requests/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

LINE = '10.1.{a}.{b} - - [01/Dec/2026:07:56:43 +0000] "GET /shop/item/{n} HTTP/1.1" 200 {n} "-" "bench/1.0"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bulk_client(url: str, seconds: float, seed: int) -> tuple[int, int]:
    """Send 1,000-line requests until ``seconds`` pass; (lines acknowledged, requests refused)."""
    body = ("\n".join(LINE.format(a=seed, b=i % 250, n=i) for i in range(1000)) + "\n").encode()
    acknowledged = refused = 0
    with httpx.Client(base_url=url, timeout=30, headers={"content-type": "text/plain"}) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            answer = http.post("/api/logs", params={"source": "bench", "format": "combined"}, content=body)
            if answer.status_code == 200:
                acknowledged += answer.json()["accepted"]
            else:
                refused += 1
    return acknowledged, refused


#: wrk's script for one-line requests: a different line each time (wrk's own counter).
WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local line = '10.9.0.1 - - [01/Dec/2026:07:56:43 +0000] \\"GET /shop/item/' .. n
    .. ' HTTP/1.1\\" 200 ' .. n .. ' \\"-\\" \\"wrk\\"'
  return wrk.format(nil, nil, nil, '{"message": "' .. line .. '"}')
end
"""


def collector_load(url: str, seconds: float, threads: int, connections: int, work: Path) -> tuple[int, int]:
    """``wrk`` sending one-line requests for ``seconds``; (requests acknowledged, requests refused).

    A C load generator: Python clients top out far below the server here (bench/README.md).
    """
    script = work / "collector.lua"
    script.write_text(WRK_SCRIPT)
    target = f"{url}/log_collector?source=collector&format=combined"
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "-s", str(script), target],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    if errors:
        print(f"wrk: {errors[0]}")
    return total - int(refused[1] if refused else 0), int(refused[1] if refused else 0)


def counted(url: str, source: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(v) for v in re.findall(rf'^loglens_lines_total{{source="{source}"}} (\S+)$', text, re.M))


def wait_counted(url: str, source: str, expected: int) -> float:
    started = time.monotonic()
    while counted(url, source) < expected:
        if time.monotonic() - started > 300:
            raise SystemExit(f"only {counted(url, source):.0f} of {expected} {source} lines counted")
        time.sleep(0.1)
    return time.monotonic() - started


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4, help="processes sending bulk requests")
    parser.add_argument("--connections", type=int, default=32, help="wrk's connections to /log_collector")
    args = parser.parse_args()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="loglens-ingest-bench-") as work:
        loglens = Path(sys.executable).parent / "loglens"
        server = subprocess.Popen(
            [loglens, "run", "--listen", f"127.0.0.1:{port}", "--state-dir", str(Path(work) / "state"),
             "--log-level", "warning"],
        )  # fmt: skip
        try:
            while True:
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            with multiprocessing.get_context("spawn").Pool(args.clients) as pool:  # fork could inherit locks
                started = time.monotonic()
                bulk = pool.starmap(bulk_client, [(url, args.seconds, n) for n in range(args.clients)])
                elapsed = time.monotonic() - started
                lines = sum(a for a, _ in bulk)
                lag = wait_counted(url, "bench", lines)
                print(f"/api/logs      {lines / elapsed:>10,.0f} lines/s acknowledged durable "
                      f"({lines:,} lines, {sum(r for _, r in bulk)} refused, {args.clients} clients, "
                      f"1,000-line requests); all counted {lag:.1f} s after the last answer")  # fmt: skip
            started = time.monotonic()
            requests, refused = collector_load(url, args.seconds, 2, args.connections, Path(work))
            elapsed = time.monotonic() - started
            lag = wait_counted(url, "collector", requests)
            print(f"/log_collector {requests / elapsed:>10,.0f} requests/s acknowledged durable "
                  f"({requests:,} requests, {refused} refused, wrk -t2 -c{args.connections}); "
                  f"all counted {lag:.1f} s after the last answer")  # fmt: skip
            print(f"peak RSS of loglens run: {peak_rss_mib(server.pid):.0f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
