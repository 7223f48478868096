"""``GET /api/insights?window=10`` (hits, bytes, rate, top sections, status mix, levels over the last N s)
and ``GET /api/series?window=120`` (hits per second)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from loglens.aggregate.insights import iso_second
from loglens.query import Query as StateQuery

At = Annotated[
    Literal["now", "latest"],
    Query(description="window ends now (wall clock), or at the newest event time seen (old logs)"),
]

End = Annotated[int | None, Query(ge=0, description="the window's last second (epoch seconds); wins over at")]


def build_insights_router(query: StateQuery) -> APIRouter:
    """Return the router of ``GET /api/insights`` and ``GET /api/series``."""
    router = APIRouter(tags=["insights"])
    keep = max(1, query.keep_seconds)

    def end_of(at: str, end: int | None) -> int:
        if end is not None:
            return end
        mark = query.watermark
        return mark if at == "latest" and mark is not None else int(query.now())

    @router.get("/api/insights")
    def get_insights(
        window: Annotated[int, Query(ge=1, le=keep, description="seconds to summarize")] = 10,
        sections: Annotated[int, Query(ge=1, le=1000, description="top sections to list")] = 10,
        sort: Annotated[
            Literal["hits", "errors", "error_share", "section"], Query(description="order of the sections")
        ] = "hits",
        at: At = "now",
        end: End = None,
    ) -> dict[str, Any]:
        """What happened in the last ``window`` seconds of event time."""
        if not query.keep_seconds:
            raise HTTPException(404, "this loglens keeps no windows")
        return query.insights(window, sections, sort, end_of(at, end))

    @router.get("/api/series")
    def get_series(
        window: Annotated[int, Query(ge=1, le=keep, description="seconds of history")] = 120,
        at: At = "now",
        end: End = None,
    ) -> dict[str, Any]:
        """Hits in each of the last ``window`` seconds, oldest first."""
        last = end_of(at, end)
        hits = [count for _, count in query.hits_series(window, last)]
        return {"end": iso_second(last), "latest": query.watermark, "hits": hits}

    return router
