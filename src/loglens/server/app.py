"""The FastAPI app: ``/api`` (an index of the endpoints), ``/metrics``, ``/api/health``, ``/api/ready``,
``/api/docs`` (offline), and the routers of each capability."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from loglens import __version__
from loglens.contracts import printable
from loglens.query import Query
from loglens.server.index import index_page

#: The loop counts as stuck when it has not completed a pass for this long (or 20 poll intervals).
STUCK_AFTER_SECONDS = 10.0
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
#: The index of every endpoint (``/`` is the web page).
INDEX_URL = "/api"
#: What the framework's own routes serve, for the index page.
FRAMEWORK_ROUTES = {
    OPENAPI_URL: "The OpenAPI document of the JSON API.",
    DOCS_URL: "The JSON API, browsable: Swagger UI, its files served by loglens itself.",
}


def create_app(
    registry: CollectorRegistry,
    routers: Iterable[APIRouter] = (),
    query: Query | None = None,
    poll_interval: float = 0.25,
    openapi_paths: Mapping[str, dict[str, Any]] | None = None,
    instance: Callable[[], str | None] | None = None,
) -> FastAPI:
    """Return the app serving ``registry`` on ``/metrics``, health and readiness, and the given routers.

    Args:
        registry: everything ``/metrics`` exposes; collectors read state at scrape time and change nothing.
        routers: the routes of each capability (status, insights, push, ingest...).
        query: the runtime's state, for health and readiness (None: an app without a runtime).
        poll_interval: seconds between the loop's passes, to tell a stuck loop.
        openapi_paths: OpenAPI path items of endpoints served beside the app (:func:`beside`).
        instance: the ``instance`` label every sample of ``/metrics`` carries (a processor's), if any.
    """
    app = FastAPIOffline(
        title="loglens",
        version=__version__,
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        swagger_ui_oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
        static_url=f"{DOCS_URL}/static",  # Swagger UI's script, style and icon, from the installed package
        redoc_url=None,
    )
    if openapi_paths:
        extra = dict(openapi_paths)

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                FastAPI.openapi(app)["paths"].update(extra)
            return app.openapi_schema  # type: ignore[return-value]

        app.openapi = openapi  # type: ignore[method-assign]
    stuck_after = max(STUCK_AFTER_SECONDS, 20 * poll_interval)

    def liveness_problems() -> list[str]:
        problems: list[str] = []
        if query is None:
            return problems
        last = query.last_loop_at()
        if last is not None and query.wall() - last > stuck_after:
            problems.append(f"the ingest loop has not completed a pass for {query.wall() - last:.0f} s")
        checkpoint = query.checkpoint()
        if not checkpoint.healthy:
            problems.append(f"saving the checkpoint fails ({checkpoint.failures} failure(s))")
        return problems

    @app.get(INDEX_URL, include_in_schema=False, response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        """This page: every endpoint, what it serves, and a link to each one that can be followed."""
        return HTMLResponse(index_page(request.app, FRAMEWORK_ROUTES, request.scope.get("root_path", "")))

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus text 0.0.4, or OpenMetrics when the scraper asks for it, sent family by family."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        label = instance() if instance is not None else None
        return StreamingResponse(_families(registry, encoder, label), media_type=content_type)

    @app.get("/api/health")
    def health() -> JSONResponse:
        """Liveness: 200 ``ok`` while the ingest loop runs and checkpoints save, else 503 naming why."""
        problems = liveness_problems()
        body = {"status": "unhealthy" if problems else "ok", "problems": problems,
                "version": __version__, "timestamp": time.time()}  # fmt: skip
        return JSONResponse(body, status_code=503 if problems else 200)

    @app.get("/api/ready")
    def ready() -> JSONResponse:
        """Readiness: live, the loop has run once, and no source or sink is failing; else 503 naming why."""
        problems = liveness_problems()
        if query is None:
            return JSONResponse({"status": "ready", "problems": problems})
        if query.last_loop_at() is None:
            problems.append("the ingest loop has not completed its first pass")
        problems += [f"source {s.name} fails: {s.last_error}" for s in query.sources() if not s.healthy]
        problems += [f"sink {s.name} fails: {s.last_error}" for s in query.sinks() if not s.healthy]
        problems = [printable(problem) for problem in problems]
        body = {"status": "not ready" if problems else "ready", "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200)

    @app.exception_handler(ClientDisconnect)
    def client_gone(request: Request, exc: ClientDisconnect) -> Response:
        """A client gone mid-request (or dropped for being too slow) is not an error of loglens: no log."""
        return Response(status_code=400)

    for router in routers:
        app.include_router(router)
    return app


def beside(app: ASGIApp, endpoints: Mapping[str, ASGIApp]) -> ASGIApp:
    """``app``, but the requests for the paths of ``endpoints`` go straight to them: no middleware, no
    routing (the hot ingest paths; bench/README.md)."""
    endpoints = dict(endpoints)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = endpoints.get(scope["path"]) if scope["type"] == "http" else None
        await (endpoint or app)(scope, receive, send)

    return dispatch


class _Family:
    """One collected metric family, as something prometheus_client's encoders can collect."""

    def __init__(self, family: Metric) -> None:
        self.family = family

    def collect(self) -> list[Metric]:
        return [self.family]


def _families(
    registry: CollectorRegistry, encoder: Callable[[Any], bytes], instance: str | None = None
) -> Iterator[bytes]:
    """The exposition one family at a time, each encoded by prometheus_client (OpenMetrics' ``# EOF``
    once, at the end), so a large exposition is never held whole; every sample labelled ``instance``
    when one is given."""
    eof = b"# EOF\n"
    ends = False
    for family in registry.collect():
        if instance is not None:
            family.samples = [s._replace(labels={**s.labels, "instance": instance}) for s in family.samples]
        text = encoder(_Family(family))
        if text.endswith(eof):
            text, ends = text[: -len(eof)], True
        yield text
    if ends:
        yield eof
