"""Load each protocol endpoint of a real ``loglens run`` over loopback, with ``/api/logs`` as the yardstick.

For ``--seconds`` each, client processes send 1,000-line requests: ``/api/logs`` (text), Loki JSON, Loki
protobuf+snappy, OTLP/HTTP protobuf and Elasticsearch ``_bulk``; then one TCP connection sends octet-counted
syslog messages. Every acknowledged line is on disk; the script waits until ``/metrics`` counts them all,
and reports lines per second acknowledged (for syslog: sent, then counted).

    .venv/bin/python bench/protocols_load.py --seconds 5 --clients 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cramjam
import httpx
import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from loglens.ingest.loki_proto import PushRequest

LINE = '10.1.{a}.{b} - - [01/Dec/2026:07:56:43 +0000] "GET /shop/item/{n} HTTP/1.1" 200 {n} "-" "bench/1.0"'
LINES = [LINE.format(a=1, b=i % 250, n=i) for i in range(1000)]


def _text() -> tuple[str, bytes, str]:
    return "/api/logs?source=text&format=combined", "\n".join(LINES).encode(), "text/plain"


def _loki_json() -> tuple[str, bytes, str]:
    values = [[str(time.time_ns()), line] for line in LINES]
    body = orjson.dumps({"streams": [{"stream": {"app": "lokijson"}, "values": values}]})
    return "/loki/api/v1/push?format=combined", body, "application/json"


def _loki_protobuf() -> tuple[str, bytes, str]:
    request = PushRequest()
    stream = request.streams.add(labels='{app="lokiproto"}')
    for line in LINES:
        entry = stream.entries.add(line=line)
        entry.timestamp.seconds = int(time.time())
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    return "/loki/api/v1/push?format=combined", body, "application/x-protobuf"


def _otlp() -> tuple[str, bytes, str]:
    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "otlp"
    scope = resource.scope_logs.add()
    for line in LINES:
        scope.log_records.add(time_unix_nano=time.time_ns(), severity_number=9).body.string_value = line
    return "/v1/logs", request.SerializeToString(), "application/x-protobuf"


def _bulk() -> tuple[str, bytes, str]:
    action = b'{"index":{"_index":"bulk"}}'
    rows = [row for line in LINES for row in (action, orjson.dumps({"message": line}))]
    return "/_bulk?format=combined", b"\n".join(rows) + b"\n", "application/x-ndjson"


PROTOCOLS: dict[str, tuple[str, Callable[[], tuple[str, bytes, str]]]] = {
    "text": ("/api/logs text", _text),
    "lokijson": ("Loki JSON", _loki_json),
    "lokiproto": ("Loki protobuf+snappy", _loki_protobuf),
    "otlp": ("OTLP/HTTP protobuf", _otlp),
    "bulk": ("Elasticsearch _bulk", _bulk),
}


def client(url: str, name: str, seconds: float) -> int:
    """Send one protocol's request until ``seconds`` pass; the lines acknowledged."""
    path, body, content_type = PROTOCOLS[name][1]()
    done = 0
    with httpx.Client(base_url=url, timeout=30, headers={"content-type": content_type}) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if http.post(path, content=body).status_code < 300:
                done += len(LINES)
    return done


def counted(url: str, source: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    prefix = f'loglens_lines_total{{source="{source}"}} '
    return next((float(row[len(prefix) :]) for row in text.splitlines() if row.startswith(prefix)), 0.0)


def wait_counted(url: str, source: str, total: float) -> float:
    start = time.monotonic()
    while counted(url, source) < total:
        if time.monotonic() - start > 120:
            raise SystemExit(f"{source}: {counted(url, source)} of {total} counted after 120 s")
        time.sleep(0.05)
    return time.monotonic() - start


def syslog_load(url: str, port: int, seconds: float) -> tuple[int, float]:
    """Octet-counted messages over one TCP connection for ``seconds``; (sent, seconds until all counted)."""
    messages = [f"<134>1 2026-12-01T07:56:43Z web app - - - {line}".encode() for line in LINES]
    chunk = b"".join(b"%d %s" % (len(m), m) for m in messages)
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as connection:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            connection.sendall(chunk)
            sent += len(messages)
    return sent, wait_counted(url, "syslog:local0", sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            syslog_port = other.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        loglens = Path(sys.executable).parent / "loglens"
        server = subprocess.Popen([str(loglens), "run", "--listen", f"127.0.0.1:{port}", "--state-dir",
                                   f"{work}/state", "--syslog", f"tcp://127.0.0.1:{syslog_port}",
                                   "--log-level", "warning"])  # fmt: skip
        try:
            while True:
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for name, (title, _) in PROTOCOLS.items():
                with multiprocessing.Pool(args.clients) as pool:
                    total = sum(pool.starmap(client, [(url, name, args.seconds)] * args.clients))
                lag = wait_counted(url, name, total)
                rate = total / args.seconds
                print(f"{title:24} {rate:>10,.0f} lines/s acknowledged, all counted {lag:.1f} s after")
            sent, lag = syslog_load(url, syslog_port, args.seconds)
            rate = sent / args.seconds
            print(f"{'syslog TCP, 1 conn.':24} {rate:>10,.0f} messages/s sent, counted {lag:.1f} s after")
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
