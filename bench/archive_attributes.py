"""Benchmark what Loki's labels and structured metadata cost the archive: one gzip member's encoding.

    python bench/archive_attributes.py [--lines 200000] [--rounds 5]

The same combined lines (in 10 parts, as the sink buffers batches) encoded as one member at level 2:
without attributes (every line of files and most ingest), with attributes of none of its lines (the
check alone), and with every line carrying two stream labels and a trace id of its own (the worst
case: the ids do not compress). Best of ``--rounds``: seconds, lines/s, and the member's size.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson
import polars as pl

from loglens.archive.segments import encode_member


def best(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lines = pl.Series("line", [
        f'10.0.{i % 7}.{i % 250} - - [01/Dec/2026:07:56:43 +0000] "GET /shop/{i} HTTP/1.1" 200 {i % 9000}'
        for i in range(args.lines)
    ])  # fmt: skip
    size = max(1, args.lines // 10)
    parts = [lines.slice(at, size) for at in range(0, args.lines, size)]
    labels = {"app": "web", "env": "prod"}
    kept = [
        pl.Series("attributes", [
            orjson.dumps({"labels": labels, "metadata": {"trace_id": f"{at + i:032x}"}}).decode()
            for i in range(len(part))
        ])
        for at, part in zip(range(0, args.lines, size), parts, strict=True)
    ]  # fmt: skip
    cases: dict[str, list[pl.Series | None]] = {
        "no attributes": [],
        "attributes of no line": [None] * len(parts),
        "every line with labels and a trace id": list(kept),
    }
    for name, attributes in cases.items():
        seconds = best(lambda attributes=attributes: encode_member(parts, 2, attributes), args.rounds)
        member, raw = encode_member(parts, 2, attributes)
        print(f"{name:<40} {seconds:6.3f} s  {args.lines / seconds:>11,.0f} lines/s  "
              f"{len(member):>10,} bytes of {raw:,}")  # fmt: skip


if __name__ == "__main__":
    main()
