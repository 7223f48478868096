"""Benchmark following a file: ``loglens run`` against ``mtail`` on the same appended lines.

    python bench/tail_peers.py [--lines 1000000] [--seed 42] [--rules] [--loglens-only]

For each tool in turn: start it on an empty file (loglens with its default 0.25 s poll, mtail with
bench/replay_status_bytes.mtail and its default 250 ms poll), append N combined lines made by
``loglens generate --seed``, and poll its ``/metrics`` until every line is counted. Prints seconds,
lines/s and CPU seconds per tool, and the ratio. With ``--rules``, the lines are metrics_peers.py's
mixed access and application lines, and the tools count them with the ten user metrics of
bench/metrics_rules (loglens ``--config rules.yaml``, mtail ``rules.mtail``), until each one's
``lines_total`` has every line. ``--loglens-only`` times loglens alone (the web panels' cost:
``LOGLENS__WEB__PANELS=false`` in the environment turns them off).
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
from collections.abc import Callable
from pathlib import Path

import httpx

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counted(url: str, pattern: str) -> float:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return -1.0
    return sum(float(v) for v in re.findall(pattern, text, re.M))


def measure(
    name: str, command: list[str], url: str, pattern: str, log: Path, block: bytes, lines: int
) -> float:
    """Start ``command``, wait until it serves, append ``block`` to ``log``, time until all is counted."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while counted(url, pattern) < 0:
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start")
            time.sleep(0.05)
        time.sleep(1)  # let it open the file and settle before the clock starts
        cpu_before, started = cpu_seconds(proc.pid), time.monotonic()
        with log.open("ab") as handle:
            handle.write(block)
        while counted(url, pattern) < lines:
            if time.monotonic() - started > 600:
                raise SystemExit(f"{name} did not count every line in 10 minutes")
            time.sleep(0.05)
        elapsed, cpu = time.monotonic() - started, cpu_seconds(proc.pid) - cpu_before
        print(f"{name:<14}{elapsed:>9.2f}{lines / elapsed:>12,.0f}{cpu:>10.2f}")
        return elapsed
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rules", action="store_true", help="mixed lines, counted by bench/metrics_rules")
    parser.add_argument("--loglens-only", action="store_true", help="time loglens run alone (no mtail)")
    args = parser.parse_args()
    mtail = shutil.which("mtail") or ("mtail" if args.loglens_only else None)
    if mtail is None:
        raise SystemExit("mtail not installed: apt-get install mtail (make bench installs it)")
    work = Path(tempfile.mkdtemp(prefix="loglens-tail-peers-"))
    generate = [sys.executable, "-m", "loglens", "generate", "--format", "combined",
                "--count", str(args.lines), "--seed", str(args.seed),
                "--start", "2025-01-01T00:00:00Z", "--rate", "200"]  # fmt: skip
    if args.rules:
        from metrics_peers import RULES, mixed

        block = mixed(work, args.lines).read_bytes()
        config, progs = ["--config", str(RULES / "rules.yaml")], str(RULES)
        loglens_count = mtail_count = r"^lines_total(?:\{[^}]*\})? (\S+)$"
    else:
        block = subprocess.run(generate, capture_output=True, check=True).stdout
        config, progs = [], str(HERE / "replay_status_bytes.mtail")
        loglens_count, mtail_count = (
            r"^loglens_http_requests_total\{[^}]*\} (\S+)$",
            r"^requests_total\{[^}]*\} (\S+)$",
        )
    runs: dict[str, Callable[[], float]] = {}
    loglens_port, mtail_port = free_port(), free_port()
    loglens_log, mtail_log = work / "loglens" / "access.log", work / "mtail" / "access.log"
    for log in (loglens_log, mtail_log):
        log.parent.mkdir()
        log.touch()
    loglens_cmd = [sys.executable, "-m", "loglens", "run", str(loglens_log), "--listen",
                   f"127.0.0.1:{loglens_port}", "--state-dir", str(work / "state"), *config]  # fmt: skip
    mtail_cmd = [mtail, "--progs", progs, "--logs", str(mtail_log),
                 "--address", "127.0.0.1", "--port", str(mtail_port)]  # fmt: skip
    runs["loglens run"] = lambda: measure(
        "loglens run", loglens_cmd, f"http://127.0.0.1:{loglens_port}/metrics",
        loglens_count, loglens_log, block, args.lines,
    )  # fmt: skip
    runs["mtail"] = lambda: measure(
        "mtail", mtail_cmd, f"http://127.0.0.1:{mtail_port}/metrics",
        mtail_count, mtail_log, block, args.lines,
    )  # fmt: skip
    kind = "mixed lines, 10 user metrics," if args.rules else "combined lines"
    print(f"{args.lines:,} {kind} appended at once, {os.cpu_count()} cores")
    print(f"{'tool':<14}{'seconds':>9}{'lines/s':>12}{'CPU s':>10}")
    if args.loglens_only:
        runs.pop("mtail")
    times = {name: run() for name, run in runs.items()}
    if "mtail" in times:
        print(f"loglens run is {times['mtail'] / times['loglens run']:.1f}x mtail")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
