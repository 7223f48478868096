"""``GET /api/insights?window=10``: hits, bytes, rate, top sections, status mix, levels over the last N s."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from loglens.aggregate.insights import insights
from loglens.aggregate.windows import Windows
from loglens.clock import Clock


def build_insights_router(windows: Windows, clock: Clock) -> APIRouter:
    """Return the router of ``GET /api/insights`` over ``windows``."""
    router = APIRouter(tags=["insights"])

    @router.get("/api/insights")
    def get_insights(
        window: Annotated[int, Query(ge=1, le=windows.keep_seconds, description="seconds to summarize")] = 10,
        sections: Annotated[int, Query(ge=1, le=1000, description="top sections to list")] = 10,
        sort: Annotated[
            Literal["hits", "errors", "error_share", "section"], Query(description="order of the sections")
        ] = "hits",
        at: Annotated[
            Literal["now", "latest"],
            Query(description="window ends now (wall clock), or at the newest event time seen (old logs)"),
        ] = "now",
    ) -> dict[str, Any]:
        """What happened in the last ``window`` seconds of event time."""
        end = int(clock.now())
        if at == "latest" and windows.watermark is not None:
            end = windows.watermark
        return insights(windows, window, end, sections, sort)

    return router
