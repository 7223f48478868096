"""``GET /api/alerts``: every alert rule with its value and state, the kept incidents, the last message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loglens.query import Query


def build_alerts_router(query: Query) -> APIRouter:
    """Return the router of ``GET /api/alerts``."""
    router = APIRouter(tags=["alerts"])

    @router.get("/api/alerts")
    def alerts() -> dict[str, Any]:
        """Rules (name, threshold, window, value, firing), incidents newest first, the last message."""
        state = query.alerts()
        now = query.now()
        return {
            "rules": [
                {
                    "name": rule.name,
                    "threshold": rule.threshold,
                    "window_seconds": rule.window_seconds,
                    "value": round(rule.value, 3),
                    "firing": rule.firing,
                }
                for rule in state.rules
            ],
            "incidents": [
                {**incident.to_dict(now), "start_epoch": incident.start, "end_epoch": incident.end}
                for incident in state.incidents
            ],
            "last_message": state.last_message,
            "sink_errors": state.sink_errors,
        }

    return router
