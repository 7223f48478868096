"""Benchmark ``loglens replay`` against mtail and goaccess on the same generated input, in one run.

    python bench/replay_peers.py [--lines 1000000] [--seed 42] [--repeat 1] [--keep DIR]

Makes N combined lines with ``loglens generate`` (fixed seed and start, so the input is the same every
run), warms the page cache, then times each tool reading the whole file:

- ``loglens replay --output json FILE``
- ``mtail --one_shot`` with bench/replay_status_bytes.mtail (counts lines by status, sums bytes)
- ``goaccess FILE --log-format=COMBINED -o json`` with stdin from /dev/null

and prints lines/s for each, loglens's ratio to each peer, and every tool's peak RSS (from wait4).
It also checks that the three agree on the number of requests, so a fast wrong answer cannot win.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass
class Run:
    """One timed run of one tool."""

    tool: str
    seconds: float
    peak_rss_mb: float
    requests: int


def timed(command: list[str], stdout: Path) -> tuple[float, float]:
    """Run ``command`` with stdout to a file; return wall seconds and peak RSS in MiB."""
    with stdout.open("wb") as out, open(os.devnull, "rb") as devnull:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=devnull, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed with exit status {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss / 1024


def make_input(path: Path, lines: int, seed: int) -> None:
    """Write the benchmark input with loglens's own generator."""
    command = [
        sys.executable, "-m", "loglens", "generate", "--format", "combined", "--count", str(lines),
        "--seed", str(seed), "--start", "2025-01-01T00:00:00Z", "--rate", "200",
    ]  # fmt: skip
    with path.open("wb") as out:
        subprocess.run(command, stdout=out, check=True)


def warm_cache(path: Path) -> None:
    """Read the file once so every tool reads it from the page cache.

    In small pieces: a child's peak RSS (from wait4) starts from this process's own high-water mark,
    since subprocess forks with vfork, so this process must never hold the file.
    """
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass


def run_loglens(log: Path, work: Path) -> Run:
    out = work / "loglens.json"
    seconds, rss = timed([sys.executable, "-m", "loglens", "replay", "--output", "json", str(log)], out)
    return Run("loglens replay", seconds, rss, json.loads(out.read_text())["hits"])


def run_mtail(log: Path, work: Path) -> Run:
    mtail = shutil.which("mtail")
    if mtail is None:
        raise SystemExit("mtail not installed: apt-get install mtail (make bench installs it)")
    out = work / "mtail.json"
    command = [mtail, "--one_shot", "--progs", str(HERE / "replay_status_bytes.mtail"), "--logs", str(log)]
    seconds, rss = timed(command, out)
    doc = json.loads(out.read_text())
    requests = sum(int(v["Value"]["Value"]) for v in doc["requests_total"][0]["LabelValues"])
    return Run("mtail --one_shot", seconds, rss, requests)


def run_goaccess(log: Path, work: Path) -> Run:
    goaccess = shutil.which("goaccess")
    if goaccess is None:
        raise SystemExit("goaccess not installed: apt-get install goaccess (make bench installs it)")
    out = work / "goaccess.json"
    command = [goaccess, str(log), "--log-format=COMBINED", "-o", "json", "--no-progress"]
    seconds, rss = timed(command, out)
    return Run("goaccess", seconds, rss, json.loads(out.read_text())["general"]["valid_requests"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    parser.add_argument("--keep", type=Path, help="folder to keep the input and outputs in")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="loglens-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"combined-{args.lines}-seed{args.seed}.log"
    if not log.exists():
        make_input(log, args.lines, args.seed)
    warm_cache(log)
    runs: list[Run] = []
    for runner in (run_loglens, run_mtail, run_goaccess):
        runs.append(min((runner(log, work) for _ in range(args.repeat)), key=lambda r: r.seconds))
    print(f"input: {args.lines:,} combined lines, {log.stat().st_size / 2**20:.0f} MiB, seed {args.seed}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    print(f"{'tool':<18}{'seconds':>9}{'lines/s':>12}{'peak RSS MiB':>14}{'requests':>11}")
    for run in runs:
        print(f"{run.tool:<18}{run.seconds:>9.2f}{args.lines / run.seconds:>12,.0f}"
              f"{run.peak_rss_mb:>14.0f}{run.requests:>11,}")  # fmt: skip
    ours = runs[0]
    for peer in runs[1:]:
        print(f"loglens is {peer.seconds / ours.seconds:.1f}x {peer.tool}")
    if len({run.requests for run in runs}) != 1:
        raise SystemExit("the tools disagree on the number of requests: see the table")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
