"""The web page: ``GET /`` (for a browser), its assets under ``/ui/``, ``GET /api/dashboard`` (its data)
and ``GET /api/dashboard/events`` (the same, live: a whole document, then merge patches, over SSE)."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi import Query as Param
from fastapi.responses import HTMLResponse, Response
from sse_starlette import EventSourceResponse
from starlette.staticfiles import StaticFiles

from loglens.config_sections import WebConfig
from loglens.ingest.elastic_probe import elastic_probe
from loglens.query import Query
from loglens.ui.web.document import document, merge_patch
from loglens.ui.web.page import live_page

#: Seconds between keep-alive comments on an idle event stream.
PING_SECONDS = 15


def wants_html(request: Request) -> bool:
    """Whether the client asked for a page (a browser), rather than for data (``GET /`` may serve both)."""
    accept = request.headers.get("accept", "")
    return not accept or "text/html" in accept or "*/*" in accept


def assets() -> StaticFiles:
    """The page's files, from the installed package (mount at ``/ui``)."""
    return StaticFiles(packages=[("loglens.ui.web", "assets")])


def build_web_router(query: Query, config: WebConfig) -> APIRouter:
    """Return the router of the page and its data."""
    router = APIRouter(tags=["web"])
    keep = max(1, query.keep_seconds)

    def home(request: Request) -> Response:
        """The web page, live, for a browser (``Accept: text/html`` or ``*/*``); for a client that asks
        for JSON, Elasticsearch's version body, which shippers probe before they send to ``/_bulk``."""
        if wants_html(request):
            return HTMLResponse(live_page())
        return elastic_probe()

    router.add_api_route("/", home, methods=["GET", "HEAD"], response_class=HTMLResponse)

    def build(rows: int, range_: int | None, source: str | None) -> Callable[[], dict[str, Any]]:
        if source is not None and source not in query.source_names():
            raise HTTPException(404, f"no source {source!r}; the sources are {query.source_names()}")
        return lambda: document(query, rows, range_, source)

    Rows = Annotated[int, Param(ge=1, le=config.rows, description="rows per panel")]
    Range = Annotated[
        int | None, Param(alias="range", ge=1, le=keep, description="seconds the summary covers (none: all)")
    ]
    Source = Annotated[str | None, Param(description="the source the summary is of (none: every source)")]

    @router.get("/api/dashboard")
    def dashboard(rows: Rows = config.rows, range_: Range = None, source: Source = None) -> dict[str, Any]:
        """The web page's data: summary, charts, goaccess panels, alerts, anomalies, patterns, sources."""
        return build(rows, range_, source)()

    @router.get("/api/dashboard/events", response_class=EventSourceResponse)
    async def events(
        request: Request, rows: Rows = config.rows, range_: Range = None, source: Source = None
    ) -> EventSourceResponse:
        """The web page's data, live (Server-Sent Events): ``snapshot``, the whole document, then a
        ``delta`` (a JSON merge patch of what changed) every second."""
        make = build(rows, range_, source)

        async def stream() -> AsyncIterator[dict[str, str]]:
            last: dict[str, Any] | None = None
            while not await request.is_disconnected():
                doc = await anyio.to_thread.run_sync(make)
                kind, body = ("snapshot", doc) if last is None else ("delta", merge_patch(last, doc))
                yield {"event": kind, "data": orjson.dumps(body).decode()}
                last = doc
                await anyio.sleep(config.update_seconds)

        return EventSourceResponse(stream(), ping=PING_SECONDS)

    return router
