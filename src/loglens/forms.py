"""JSON forms of alert incidents and anomalies, shared by the API and the web page (no web framework
imported: ``replay --output html`` uses them too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loglens.alerts.rules import format_time

if TYPE_CHECKING:
    from loglens.alerts.engine import Incident
    from loglens.anomaly.rates import Anomaly


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
        "template": anomaly.template,
    }


def incident_dict(incident: Incident, now: float) -> dict[str, Any]:
    """JSON-ready form of one incident: fire and recover times (UTC, and epoch seconds), annotations."""
    return {**incident.to_dict(now), "annotations": incident.annotations,
            "start_epoch": incident.start, "end_epoch": incident.end}  # fmt: skip
