"""Load ``POST /api/metrics`` over loopback and report accepted samples per second.

The server (loglens's app with the push router, served by uvicorn) runs in a child process; this
process pushes batches of mixed metrics (counters, gauges, histogram and summary observations) from
several concurrent connections, then checks on ``/metrics`` that every counter increment arrived.

    .venv/bin/python bench/push_load.py --seconds 10 --concurrency 4

Target (issue 6): at least 20,000 samples/s in batches of 100, with 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from multiprocessing.queues import Queue
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

TARGET = 20_000


def serve(ports: Queue[int]) -> None:
    """Child process: run the push app on a free loopback port and report the port."""
    import uvicorn
    from prometheus_client import CollectorRegistry

    from loglens.config_sections import PushConfig
    from loglens.push.collector import PushCollector
    from loglens.push.routes import build_push_router
    from loglens.push.store import PushStore
    from loglens.server.app import create_app

    config = PushConfig()
    store = PushStore(config)
    registry = CollectorRegistry()
    registry.register(PushCollector(store))
    app = create_app(registry, [build_push_router(config, store)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto: TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    ports.put(sock.getsockname()[1])
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


def batch(source: str, size: int) -> bytes:
    """One request body of ``size`` distinct series: half counters, the rest gauges and observations."""
    metrics: list[dict[str, Any]] = []
    for i in range(size):
        kind = i % 4
        labels = {"route": f"/r{i}"}
        if kind in (0, 1):
            metrics.append(_metric("bench_requests", "counter", labels, 1.0))
        elif kind == 2:
            metrics.append(_metric("bench_queue_depth", "gauge", labels, float(i)))
        elif i % 8 == 3:
            metrics.append(_metric("bench_latency_seconds", "histogram", labels, 0.001 * i))
        else:
            metrics.append(_metric("bench_payload_bytes", "summary", labels, 100.0 + i))
    return orjson.dumps({"source": source, "metrics": metrics})


def _metric(name: str, metric_type: str, labels: dict[str, str], value: float) -> dict[str, Any]:
    return {
        "name": name,
        "metric_type": metric_type,
        "help": f"{name} (bench)",
        "labels": labels,
        "value": {"value": value},
    }


async def worker(port: int, body: bytes, until: float, tally: dict[str, int]) -> None:
    """Push the same batch over one keep-alive connection until ``until``, counting samples and errors.

    A bare HTTP/1.1 client on asyncio streams rather than httpx: on a 2-core machine httpx spends about
    as much CPU per request as the server does, so it would measure the loader, not loglens.
    """
    request = (
        f"POST /api/metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            writer.write(request)
            status_line, _, head = (await reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            answer = orjson.loads(await reader.readexactly(length))
            tally["batches"] += 1
            tally["accepted"] += answer.get("processed", 0)
            if status_line.split()[1] != b"200" or answer.get("errors"):
                tally["errors"] += 1
    finally:
        writer.close()


async def load(url: str, seconds: float, concurrency: int, size: int) -> dict[str, Any]:
    """Run ``concurrency`` connections for ``seconds``; return the tallies, elapsed time and exposition."""
    tallies = [{"batches": 0, "accepted": 0, "errors": 0} for _ in range(concurrency)]
    bodies = [batch(f"bench_{n}", size) for n in range(concurrency)]
    port = int(url.rpartition(":")[2])
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await client.post("/api/metrics", content=bodies[0], headers={"content-type": "application/json"})
        start = time.monotonic()
        await asyncio.gather(
            *(worker(port, bodies[n], start + seconds, tallies[n]) for n in range(concurrency))
        )
        elapsed = time.monotonic() - start
        exposition = (await client.get("/metrics")).text
    return {"tallies": tallies, "elapsed": elapsed, "exposition": exposition}


def counter_total(exposition: str, source: str) -> float:
    """Sum of ``app_bench_requests_total`` for one source."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "app_bench_requests_total" and sample.labels.get("source") == source
    )


def main() -> None:
    """Start the server, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ports: Queue[int] = context.Queue()
    server = context.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}"
        _wait_ready(url)
        result = asyncio.run(load(url, args.seconds, args.concurrency, args.batch_size))
    finally:
        server.terminate()
        server.join(timeout=10)

    tallies, elapsed = result["tallies"], result["elapsed"]
    accepted = sum(t["accepted"] for t in tallies)
    batches = sum(t["batches"] for t in tallies)
    errors = sum(t["errors"] for t in tallies)
    # each batch adds 1 to each of its counter series; the warm-up batch went to bench_0
    counters_per_batch = sum(1 for i in range(args.batch_size) if i % 4 in (0, 1))
    lost = sum(
        (t["batches"] + (n == 0)) * counters_per_batch - counter_total(result["exposition"], f"bench_{n}")
        for n, t in enumerate(tallies)
    )
    rate = accepted / elapsed
    print(f"batches of {args.batch_size}, {args.concurrency} connections, {elapsed:.1f} s")
    verdict = "met" if rate >= TARGET and not errors and not lost else "NOT met"
    print(f"batches: {batches}  samples accepted: {accepted}  errors: {errors}  increments lost: {lost:g}")
    print(f"samples/s: {rate:,.0f}  (target {TARGET:,} with 0 errors: {verdict})")


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)  # start-up of the child process, not work


if __name__ == "__main__":
    main()
