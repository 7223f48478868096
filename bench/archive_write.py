"""Benchmark the archive: compression ratio and write throughput, and what it adds to the fold.

    python bench/archive_write.py [--lines 1000000] [--seed 42] [--rounds 3] [--keep DIR]

Makes N combined lines with ``loglens generate`` (fixed seed and start), then, in this process:

1. the sink alone, at every gzip level (0-3): the file's lines in batches of about 2 MiB (what the
   readers hand the runtime), a checkpoint state() every 50 batches, stored into a local folder;
   lines/s, MB/s of lines, CPU seconds (the compression thread's included), compression ratio;
2. the runtime folding the same file (the replay reader, no windows), with no archive and with the
   archive taking every line, interleaved ``--rounds`` times: wall and CPU seconds of each, and the
   archive's cost; then the archive attached but taking no line (``archive.files`` off), the cost of
   an enabled archive on followed files.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from loglens.archive.local import LocalBackend
from loglens.archive.publisher import Publisher
from loglens.archive.sink import ArchiveSink
from loglens.archive.spool import Spool
from loglens.clock import SystemClock
from loglens.config import load_settings
from loglens.records import Batch, empty_records
from loglens.runtime import Runtime
from loglens.sources.replay_reader import ReplayReader

CHUNK = 2 * 1024 * 1024


def make_input(path: Path, lines: int, seed: int) -> None:
    """The benchmark input, from loglens's own generator."""
    command = [
        sys.executable, "-m", "loglens", "generate", "--format", "combined", "-n", str(lines),
        "--seed", str(seed), "--start", "2026-12-01T00:00:00Z", "-o", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def batches(path: Path) -> Iterator[pl.Series]:
    """The file's lines, about 2 MiB at a time."""
    with path.open("rb") as handle:
        rest = b""
        while block := handle.read(CHUNK):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            yield pl.read_lines(b"\n" + block[:cut])["line"].slice(1)


def archive(folder: Path, level: int = 2, accepts: Callable[[str], bool] = lambda label: True) -> ArchiveSink:
    """A fresh archive in ``folder``, without checkpoint (closed segments are stored at once)."""
    shutil.rmtree(folder, ignore_errors=True)
    clock = SystemClock()
    publisher = Publisher(LocalBackend(folder / "archive"), clock)
    return ArchiveSink(Spool(folder / "spool"), publisher, accepts=accepts, clock=clock, level=level)


def sink_alone(path: Path, work: Path, level: int) -> tuple[float, float, int, int, int]:
    """Wall and CPU seconds, lines, bytes of lines and compressed bytes of one pass of the sink."""
    series = list(batches(path))
    sink = archive(work / "sink", level)
    wall, cpu = time.perf_counter(), time.process_time()
    for n, lines in enumerate(series):
        sink.write(Batch("bench", empty_records(), len(lines), raw=lines))
        if n % 50 == 49:
            sink.state()
    sink.state()
    sink.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, sink.counts.lines, sink.counts.raw_bytes, sink.counts.bytes


def fold(path: Path, sink: ArchiveSink | None) -> tuple[float, float]:
    """Wall and CPU seconds of the runtime reading ``path`` to its end (and the archive's last state)."""
    runtime = Runtime(load_settings(), [ReplayReader([str(path)])], [sink] if sink else [],
                      checkpoint=False, windows=False)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    runtime.drain()
    if sink is not None:
        sink.state()
    runtime.close()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    layout = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=layout)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the input and the archives in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="loglens-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "access.log"
    try:
        if not log.exists():
            make_input(log, args.lines, args.seed)
        print(f"input: {args.lines:,} combined lines, {log.stat().st_size / 2**20:.0f} MiB")
        for level in range(4):
            wall, cpu, lines, raw, packed = sink_alone(log, work, level)
            speed = f"{lines / wall:,.0f} lines/s, {raw / wall / 1e6:.0f} MB/s"
            ratio = f"ratio {raw / packed:.2f} ({packed / 2**20:.1f} MiB)"
            print(f"sink alone, level {level}: {speed}, {wall:.2f} s wall, {cpu:.2f} CPU s, {ratio}")
        runs: dict[str, list[tuple[float, float]]] = {"no archive": [], "archive, every line": []}
        for _ in range(args.rounds):
            runs["no archive"].append(fold(log, None))
            runs["archive, every line"].append(fold(log, archive(work / "fold")))
        runs["archive, no line taken"] = [fold(log, archive(work / "idle", accepts=lambda label: False))
                                          for _ in range(args.rounds)]  # fmt: skip
        base = min(cpu for _, cpu in runs["no archive"])
        for name, times in runs.items():
            walls = ", ".join(f"{wall:.2f}" for wall, _ in times)
            cpus = ", ".join(f"{cpu:.2f}" for _, cpu in times)
            extra = min(cpu for _, cpu in times) - base
            print(f"fold, {name}: wall {walls} s; CPU {cpus} s; best CPU {extra:+.2f} s against no archive")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
