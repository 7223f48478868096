"""A real push server: the loglens app with the push and Pushgateway routers, served by uvicorn on a free
loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from loglens.clock import FrozenClock
from loglens.config_sections import PushConfig
from loglens.push.collector import PushCollector
from loglens.push.gateway import Gateway
from loglens.push.gateway_routes import build_gateway_router
from loglens.push.routes import build_push_router
from loglens.push.store import PushStore
from loglens.server.app import create_app


@dataclass
class PushServer:
    """A running server and what tests need to drive it."""

    url: str
    clock: FrozenClock
    store: PushStore
    client: httpx.Client

    def push(self, metrics: list[dict[str, Any]], source: str = "my_app", **batch: Any) -> httpx.Response:
        """POST one batch from ``source``."""
        return self.client.post("/api/metrics", json={"source": source, "metrics": metrics, **batch})

    def exposition(self) -> str:
        """The text of ``/metrics``."""
        response = self.client.get("/metrics")
        assert response.status_code == 200
        return response.text

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every exposed sample as (name, labels) -> value."""
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(self.exposition())
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's value, or None when it is not exposed."""
        return self.samples().get((name, frozenset(labels.items())))


def metric(name: str, value: Any, metric_type: str = "counter", **fields: Any) -> dict[str, Any]:
    """One metric of a push body; a bare number becomes ``{"value": number}``."""
    body = {"name": name, "metric_type": metric_type, "help": f"{name} help", "labels": {}}
    body["value"] = {"value": value} if isinstance(value, int | float) else value
    body.update(fields)
    return body


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    # proto IPPROTO_TCP, or asyncio leaves Nagle on for accepted connections: 40 ms per keep-alive request
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # start-up, not work: uvicorn offers no event to wait on
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, port


@pytest.fixture
def start_server() -> Iterator[Callable[..., PushServer]]:
    """Factory: ``start_server(**push_config)`` runs a fresh server with a frozen clock."""
    running: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(**config: Any) -> PushServer:
        push_config = PushConfig(**config)
        clock = FrozenClock()
        store = PushStore(push_config, clock)
        registry = CollectorRegistry()
        registry.register(PushCollector(store))
        routers = [
            build_push_router(push_config, store),
            build_gateway_router(push_config, Gateway(store, push_config, clock)),
        ]
        server, thread, port = _serve(create_app(registry, routers))
        url = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=url, timeout=10)
        running.append((server, thread, client))
        return PushServer(url, clock, store, client)

    yield start
    for server, thread, client in running:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(start_server: Callable[..., PushServer]) -> PushServer:
    """A server with the default push settings."""
    return start_server()


@pytest.fixture(name="metric")
def metric_fixture() -> Callable[..., dict[str, Any]]:
    """The :func:`metric` body builder."""
    return metric
