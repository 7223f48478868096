"""Build the FastAPI app: built-in ``/metrics`` and ``/api/health``, plus the routers of each capability."""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from loglens import __version__


def create_app(registry: CollectorRegistry, routers: Iterable[APIRouter] = ()) -> FastAPI:
    """Return the app serving ``registry`` on ``/metrics`` and the given routers.

    Args:
        registry: everything ``/metrics`` exposes; collectors read state at scrape time and change nothing.
        routers: the routes of each capability (status, insights, push, ingest...).
    """
    app = FastAPI(title="loglens", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus text format 0.0.4, or OpenMetrics when the scraper asks for it."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(content=encoder(registry), media_type=content_type)

    @app.get("/api/health")
    def health() -> dict[str, object]:
        """Liveness: always ``ok`` while the process serves requests."""
        return {"status": "ok", "version": __version__, "timestamp": time.time()}

    for router in routers:
        app.include_router(router)
    return app
