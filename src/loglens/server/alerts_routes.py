"""``GET /api/alerts``: every alert rule with its value and state, the active alerts, the incidents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from loglens.alerts.rules import format_time
from loglens.forms import incident_dict
from loglens.query import Query


def build_alerts_router(query: Query) -> APIRouter:
    """Return the router of ``GET /api/alerts``."""
    router = APIRouter(tags=["alerts"])

    @router.get("/api/alerts")
    def alerts() -> dict[str, Any]:
        """Rules with their state, the pending and firing alerts, the incidents (the console's newest,
        and a longer history with fire and recover times), the last message."""
        state = query.alerts()
        now = query.now()
        return {
            "rules": [
                {
                    "name": rule.name,
                    "kind": rule.kind,
                    "op": rule.op,
                    "threshold": rule.threshold,
                    "window_seconds": rule.window_seconds,
                    "for_seconds": rule.for_seconds,
                    "keep_firing_for_seconds": rule.keep_firing_seconds,
                    "by": list(rule.by),
                    "labels": rule.labels,
                    "value": round(rule.value, 3),
                    "firing": rule.firing,
                    "firing_alerts": rule.firing_count,
                    "fired_total": rule.fired_total,
                }
                for rule in state.rules
            ],
            "active": [
                {
                    "rule": alert.rule,
                    "state": alert.state,
                    "labels": alert.labels,
                    "since": format_time(alert.since),
                    "since_epoch": alert.since,
                    "value": round(alert.value, 3),
                }
                for alert in state.active
            ],
            "incidents": [incident_dict(incident, now) for incident in state.incidents],
            "history": [incident_dict(incident, now) for incident in state.history],
            "last_message": state.last_message,
            "sink_errors": state.sink_errors,
        }

    return router
