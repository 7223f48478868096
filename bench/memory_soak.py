"""Soak ``loglens run`` with new distinct paths and watch its memory: is RSS flat once the caps fill?

    python bench/memory_soak.py [--minutes 30] [--distinct 1000] [--rate 2000] [--bad]

Starts a real ``loglens run`` on a temporary folder and appends ``--rate`` combined lines/s to two
files, ``--distinct`` of them each second with a path (and section, client and user) never seen
before, the rest drawn from a small fixed set. Every 10 s it records the process's RSS. After a
warm-up of 10 minutes (the per-second windows keep 600 s, so they fill for that long) RSS should stay
within +-10% of its value at the end of the warm-up. At the end it checks that
``loglens_lines_total`` equals the lines written, so a process that fell behind cannot pass.

``--bad`` (the fault soak: ``--rate 5000 --bad``) makes every fifth line bad in a different way (garbage
bytes, invalid UTF-8, JSON dated in the year 287,000 or 2099, negative or 9e18 sizes, lines over the
64 KiB limit, empty lines), gives the fresh lines a new status, method and user agent as well, and at
the end fails when the log holds a traceback.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tail_latency import Loglens

TICK = 0.1
COMMON_PATHS = ("/", "/index.html", "/api/items", "/static/app.js", "/login")


def line(n: int, fresh: bool) -> str:
    """One combined line; ``fresh`` lines carry a path, section, client and user never used before."""
    ts = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    if fresh:
        path, client, user = f"/s{n}/item/{n}?q={n}", f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", f"u{n}"
    else:
        path, client, user = COMMON_PATHS[n % len(COMMON_PATHS)], "192.0.2.1", "-"
    status = (200, 200, 200, 404, 500)[n % 5]
    return f'{client} - {user} [{ts}] "GET {path} HTTP/1.1" {status} {n % 5000} "-" "soak/1.0"\n'


def bad_line(n: int) -> str:
    """A line that must be counted and skipped (or kept with its bounds), never raise."""
    kind = n % 8
    if kind == 0:
        return "\x00\x1b[31m garbage \ufffd" + str(n) + "\n"
    if kind == 1:
        return '{"ts":9000000000000000,"msg":"x' + str(n) + '"}\n'
    if kind == 2:
        return '{"ts":"2099-01-01T00:00:00Z","status":200,"path":"/f' + str(n) + '","bytes":-5}\n'
    if kind == 3:
        return '{"ts":' + str(int(time.time())) + ',"status":200,"path":"/b","bytes":9000000000000000000}\n'
    if kind == 4:
        return "x" * 70_000 + "\n"
    if kind == 5:
        return "\n"
    if kind == 6:
        return '10.0.0.1 - - [31/Dec/9999:23:59:59 -0100] "GET /x HTTP/1.1" 200 1\n'
    return (
        '{"ts":"' + datetime.now(UTC).isoformat() + '","level":"ERROR","msg":"new failure ' + str(n) + '"}\n'
    )


def fresh_fields(n: int) -> str:
    """A combined line whose status, method and agent are new too."""
    ts = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (f'10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255} - u{n} [{ts}] "M{n} /s{n}/i?q={n} HTTP/1.1" '
            f'{100 + n % 900} {n % 5000} "https://r{n}.example/" "agent/{n}"\n')  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=10)
    parser.add_argument("--distinct", type=int, default=1000, help="new distinct paths per second")
    parser.add_argument("--rate", type=int, default=2000, help="lines per second in all")
    parser.add_argument("--bad", action="store_true", help="mix in bad lines and fresh keys on every label")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="loglens-soak-"))
    (folder / "logs").mkdir()
    files = [folder / "logs" / f"f{i}.log" for i in range(2)]
    for path in files:
        path.touch()
    run = Loglens(folder)
    handles = [path.open("a") for path in files]
    per_tick, fresh_per_tick = int(args.rate * TICK), int(args.distinct * TICK)
    written = fresh = 0
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    try:
        tick = 0
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            for i in range(per_tick):
                is_fresh = i < fresh_per_tick
                if args.bad and i % 5 == 4:
                    text = bad_line(written)
                elif args.bad and is_fresh:
                    text = fresh_fields(fresh)
                else:
                    text = line(fresh if is_fresh else written, is_fresh)
                handles[i % 2].write(text)
                fresh += is_fresh
                written += 1
            for handle in handles:
                handle.flush()
            if tick % int(10 / TICK) == 0:
                samples.append((elapsed, run.rss_mib()))
                rss = samples[-1][1]
                print(f"{elapsed / 60:6.1f} min  RSS {rss:6.1f} MiB  {written:,} lines", flush=True)
            tick += 1
            delay = started + tick * TICK - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        deadline = time.monotonic() + 60
        while (seen := run.lines()) < written and time.monotonic() < deadline:
            time.sleep(0.1)
        after = [rss for at, rss in samples if at >= args.warmup_minutes * 60]
        base = after[0]
        low, high = min(after), max(after)
        print(f"{written:,} lines ({fresh:,} distinct paths) in {args.minutes:g} min; counted {seen:,.0f}")
        spread = f"{100 * (low / base - 1):+.1f}% / {100 * (high / base - 1):+.1f}%"
        print(f"RSS after warm-up: start {base:.1f} MiB, min {low:.1f}, max {high:.1f}, end {after[-1]:.1f}")
        print(f"range against the start: {spread}")
        flat = base * 0.9 <= low and high <= base * 1.1
        print("flat within +-10%" if flat else "NOT flat within +-10%")
        tracebacks = run.out.read_text(errors="replace").count("Traceback")
        print(f"tracebacks in the log: {tracebacks}")
    finally:
        run.stop()


if __name__ == "__main__":
    main()
