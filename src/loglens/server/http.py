"""The HTTP server as a view of the runtime: ``/metrics``, ``/api/*`` and the push API, on one port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import uvicorn
from fastapi import APIRouter
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from starlette.types import ASGIApp

from loglens.config import Settings
from loglens.config_sections import ServerConfig
from loglens.errors import LoglensError
from loglens.exposition.runtime import RuntimeCollector
from loglens.exposition.totals import TotalsCollector
from loglens.push.collector import PushCollector
from loglens.push.gateway import Gateway
from loglens.push.gateway_routes import build_gateway_router
from loglens.push.routes import build_push_router
from loglens.push.store import PushStore
from loglens.runtime import Runtime
from loglens.server.alerts_routes import build_alerts_router
from loglens.server.anomaly_routes import build_anomaly_router
from loglens.server.app import beside, create_app
from loglens.server.connections import ACCEPT_BACKLOG, GuardedServer, guarded_protocol
from loglens.server.insights_routes import build_insights_router
from loglens.server.status_routes import build_status_router
from loglens.server.web_routes import assets, build_web_router
from loglens.sources.file_faults import RESERVED_DESCRIPTORS
from loglens.ui.web.page import ASSETS_URL


class HttpServer:
    """Serves a runtime over HTTP (uvicorn in its own thread) until the runtime stops.

    Args:
        settings: the listen address, push and limit settings.
        routers: extra routes (besides status, insights, alerts and push).
    """

    def __init__(self, settings: Settings, routers: Iterable[APIRouter] = ()) -> None:
        self.settings = settings
        self.extra_routers = list(routers)
        self.endpoints: dict[str, ASGIApp] = {}
        self.openapi_paths: dict[str, dict[str, Any]] = {}
        self.registry = CollectorRegistry()
        #: The ``instance`` label put on every sample of /metrics (None: none; "": host and port bound).
        self.instance: str | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def add_endpoints(self, endpoints: Mapping[str, ASGIApp], openapi: Mapping[str, dict[str, Any]]) -> None:
        """Serve plain ASGI ``endpoints`` by path, beside the app's routes, described by ``openapi``'s
        path items."""
        self.endpoints.update(endpoints)
        self.openapi_paths.update(openapi)

    def bind(self, runtime: Runtime) -> None:
        """Bind the listen address and build the app over ``runtime``'s query API.

        Raises:
            LoglensError: the address is unknown or in use.
        """
        query = runtime.query
        self.registry.register(TotalsCollector(query.totals))
        self.registry.register(RuntimeCollector(query))
        if runtime.metrics is not None:
            from loglens.metrics.exposition import UserMetricsCollector

            self.registry.register(UserMetricsCollector(runtime.metrics))
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        store = PushStore(self.settings.push, runtime.wall)
        self.registry.register(PushCollector(store))
        routers = [
            build_status_router(query, self.registry),
            build_insights_router(query),
            build_alerts_router(query),
            build_anomaly_router(query),
            build_push_router(self.settings.push, store),
            build_web_router(query, self.settings.web),
            build_gateway_router(self.settings.push, Gateway(store, self.settings.push, runtime.wall)),
            *self.extra_routers,
        ]
        self.app = create_app(
            self.registry,
            routers,
            query,
            self.settings.tail.poll_interval_seconds,
            openapi_paths=self.openapi_paths,
            instance=self.instance_label,
        )
        self.app.mount(f"/{ASSETS_URL}", assets(), name="ui")
        self._socket = _bind(self.settings.server.host, self.settings.server.port)

    @property
    def address(self) -> tuple[str, int]:
        """Host and port the server listens on (the real port when 0 was asked for)."""
        if self._socket is None:
            return self.settings.server.host, self.settings.server.port
        host, port = self._socket.getsockname()[:2]
        return host, port

    def instance_label(self) -> str | None:
        """The ``instance`` label of /metrics: the configured one, or this host's name and the port bound."""
        if self.instance is None or self.instance:
            return self.instance
        return f"{socket.gethostname()}:{self.address[1]}"

    @property
    def url(self) -> str:
        """Base URL of the HTTP app (on this machine's loopback when it listens on every interface)."""
        host, port = self.address
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        """Serve in a thread."""
        server = self.settings.server
        config = uvicorn.Config(
            beside(self.app, self.endpoints),
            http=guarded_protocol(server.max_connections, server.request_timeout_seconds),
            backlog=ACCEPT_BACKLOG,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # loglens reads no client address
            timeout_graceful_shutdown=2,
        )
        self._server = GuardedServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="loglens-http"
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def server_descriptors(server: ServerConfig) -> int:
    """Descriptors to keep for all but followed files: the HTTP server's, and the fixed reserve."""
    return RESERVED_DESCRIPTORS + server.max_connections + ACCEPT_BACKLOG


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        LoglensError: the address is unknown or in use.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise LoglensError(f"cannot listen on {host}:{port}: {exc}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(ACCEPT_BACKLOG)
    except OSError as exc:
        sock.close()
        raise LoglensError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
