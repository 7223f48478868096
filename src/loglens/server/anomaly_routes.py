"""``GET /api/anomalies``: the detectors' recent anomalies and every series' latest score;
``GET /api/patterns``: the templates the pattern detectors mined."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as Param

from loglens.forms import anomaly_dict
from loglens.query import Query


def build_anomaly_router(query: Query) -> APIRouter:
    """Return the router of ``GET /api/anomalies``."""
    router = APIRouter(tags=["anomalies"])

    @router.get("/api/anomalies")
    def anomalies() -> dict[str, Any]:
        """Anomalies, newest first (``baseline``: the count expected in the window, ``observed``: the
        count seen), each detector's count, and the latest score of every series with a warm baseline."""
        state = query.anomalies()
        return {
            "enabled": state.enabled,
            "threshold": state.threshold,
            "anomalies": [anomaly_dict(anomaly) for anomaly in state.anomalies],
            "totals": state.totals,
            "scores": [
                {
                    "detector": detector,
                    "series": series,
                    "score": round(current.score, 2),
                    "expected": round(current.expected, 2),
                    "observed": current.observed,
                }
                for (detector, series), current in sorted(state.scores.items())
            ],
        }

    @router.get("/api/patterns")
    def patterns(top: Annotated[int, Param(ge=0, le=10_000)] = 50) -> dict[str, Any]:
        """The templates of the application messages read so far, most seen first (``top``, 0 for all):
        ``id``, ``template`` (variable parts as ``<*>``), ``count``, ``example`` (its first message)."""
        mined = query.patterns()
        templates = mined or []
        shown = templates if top == 0 else templates[:top]
        return {
            "enabled": mined is not None,
            "templates": [
                {"id": t.id, "template": t.template, "count": t.count, "example": t.example} for t in shown
            ],
            "total": len(templates),
        }

    return router
