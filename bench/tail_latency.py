"""Benchmark ``loglens run`` following files: append-to-visible latency, CPU per million lines, bulk rate.

    python bench/tail_latency.py [--rate 20000] [--seconds 20] [--files 4]

Starts a real ``loglens run`` on a temporary folder, appends lines of the shipped Apache sample to
``--files`` files at ``--rate`` lines/s in 50 ms ticks, and polls ``/metrics`` to see when each tick's
lines are counted. Then appends 1,000,000 lines at once and times until all are counted. Prints latency
percentiles, CPU seconds per million lines and RSS of the loglens process (from /proc).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

SAMPLE = (Path(__file__).parents[1] / "tests/data/real/apache_combined_10k.log").read_text().splitlines(True)
TICK = 0.05


class Loglens:
    """A ``loglens run`` subprocess and the readings taken from it."""

    def __init__(self, folder: Path) -> None:
        self.out = folder / "run.out"
        command = [sys.executable, "-m", "loglens", "run", str(folder / "logs" / "*.log"),
                   "--listen", "127.0.0.1:0", "--state-dir", str(folder / "state")]  # fmt: skip
        self.proc = subprocess.Popen(command, stdout=self.out.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not (found := re.findall(r"metrics on (http://[\d.:]+)/metrics", self.out.read_text())):
            if time.monotonic() > deadline:
                raise SystemExit(f"loglens run did not start: {self.out.read_text()}")
            time.sleep(0.05)
        self.url = found[0]
        self.client = httpx.Client()

    def lines(self) -> float:
        text = self.client.get(self.url + "/metrics").text
        return sum(float(v) for v in re.findall(r"^loglens_lines_total\{[^}]*\} (\S+)$", text, re.M))

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().split(")")[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024  # type: ignore[index]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def write_steadily(files: list[Path], rate: int, seconds: float, marks: list[tuple[float, int]]) -> None:
    """Append ``rate`` lines/s across ``files`` in ticks, recording (time, cumulative lines) per tick."""
    handles = [path.open("a") for path in files]
    per_file = max(1, int(rate * TICK) // len(files))
    written = offset = 0
    started = time.monotonic()
    for tick in range(int(seconds / TICK)):
        for handle in handles:
            handle.write("".join(SAMPLE[(offset + j) % len(SAMPLE)] for j in range(per_file)))
            handle.flush()
            offset += per_file
        written += per_file * len(files)
        marks.append((time.monotonic(), written))
        delay = started + (tick + 1) * TICK - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--files", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="loglens-tail-bench-"))
    (folder / "logs").mkdir()
    files = [folder / "logs" / f"f{i}.log" for i in range(args.files)]
    for path in files:
        path.touch()
    run = Loglens(folder)
    try:
        print(f"idle RSS {run.rss_mib():.0f} MiB")
        marks: list[tuple[float, int]] = []
        writer = threading.Thread(target=write_steadily, args=(files, args.rate, args.seconds, marks))
        cpu_before = run.cpu()
        writer.start()
        latencies: list[float] = []
        seen_marks = 0
        while writer.is_alive() or seen_marks < len(marks):
            seen, now = run.lines(), time.monotonic()
            while seen_marks < len(marks) and marks[seen_marks][1] <= seen:
                latencies.append(now - marks[seen_marks][0])
                seen_marks += 1
            time.sleep(0.01)  # scrape pacing of the measurement loop
        cpu = run.cpu() - cpu_before
        latencies.sort()
        total = marks[-1][1]
        p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
        print(f"append to visible at {args.rate:,} lines/s over {args.files} files: "
              f"p50 {p50:.3f} s, p99 {p99:.3f} s, "
              f"max {latencies[-1]:.3f} s; {cpu / total * 1e6:.1f} CPU s per million lines; "
              f"RSS {run.rss_mib():.0f} MiB")  # fmt: skip
        base = run.lines()
        block = "".join(SAMPLE) * 100
        cpu_before, started = run.cpu(), time.monotonic()
        with files[0].open("a") as handle:
            handle.write(block)
        while run.lines() < base + 1_000_000:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        print(f"1,000,000 lines appended at once: {elapsed:.2f} s = {1e6 / elapsed:,.0f} lines/s, "
              f"{run.cpu() - cpu_before:.2f} CPU s; RSS {run.rss_mib():.0f} MiB")  # fmt: skip
    finally:
        run.stop()


if __name__ == "__main__":
    main()
