"""``GET /api/anomalies``: the rate detectors' recent anomalies and every series' latest score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loglens.alerts.rules import format_time
from loglens.anomaly.rates import Anomaly
from loglens.query import Query


def anomaly_dict(anomaly: Anomaly) -> dict[str, Any]:
    """JSON-ready form of one anomaly (times UTC, and in epoch seconds)."""
    return {
        "detector": anomaly.detector,
        "series": anomaly.series,
        "at": format_time(anomaly.at),
        "at_epoch": anomaly.at,
        "score": round(anomaly.score, 2),
        "baseline": round(anomaly.baseline, 2),
        "observed": anomaly.observed,
        "peak": round(anomaly.peak, 2),
        "end": format_time(anomaly.end) if anomaly.end is not None else None,
        "end_epoch": anomaly.end,
        "example": anomaly.example,
    }


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

    return router
