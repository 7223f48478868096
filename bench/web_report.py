"""``loglens replay --output html`` against ``--output json`` on the same 1,000,000 generated lines.

The lines are made by ``loglens generate --seed 42 --count N`` (combined, as bench/replay_peers.py's);
the two outputs run interleaved, ``--rounds`` times each, read from the page cache. Reported per output:
wall seconds, CPU seconds, peak RSS, the size of what it wrote; then the ratio html/json of the best
and of the median runs. Usage: ``.venv/bin/python bench/web_report.py [--count 1000000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], out: Path) -> tuple[float, float, float]:
    """Wall s, CPU s and peak RSS (MiB) of ``command``, its stdout to ``out``."""
    started = time.perf_counter()
    with out.open("wb") as handle:
        child = subprocess.Popen(command, stdout=handle)
        _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{command} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loglens = str(Path(sys.executable).parent / "loglens")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "access.log"
        start = "2026-01-01T00:00:00Z"
        generate = [loglens, "generate", "--count", str(args.count), "--seed", "42", "--start", start]
        subprocess.run([*generate, "-o", str(log)], check=True, stderr=subprocess.DEVNULL)
        log.read_bytes()  # into the page cache
        runs: dict[str, list[tuple[float, float, float]]] = {"json": [], "html": []}
        sizes: dict[str, int] = {}
        for _ in range(args.rounds):
            for output in runs:
                out = Path(folder) / f"report.{output}"
                runs[output].append(timed([loglens, "replay", "--output", output, str(log)], out))
                sizes[output] = os.path.getsize(out)
    print(f"{args.count:,} lines, {args.rounds} rounds interleaved")
    for output, measured in runs.items():
        walls = [wall for wall, _, _ in measured]
        cpus = [cpu for _, cpu, _ in measured]
        rss = [peak for _, _, peak in measured]
        print(f"  --output {output}: {min(walls):.2f}-{max(walls):.2f} s wall,"
              f" {min(cpus):.2f}-{max(cpus):.2f} CPU s, peak RSS {min(rss):.0f}-{max(rss):.0f} MiB,"
              f" written {sizes[output] / 1024:.0f} KiB")  # fmt: skip
    html, json = ([wall for wall, _, _ in runs[output]] for output in ("html", "json"))
    best = min(html) / min(json)
    median = statistics.median(html) / statistics.median(json)
    print(f"  html/json: {best:.2f}x (best runs), {median:.2f}x (median runs)")


if __name__ == "__main__":
    main()
