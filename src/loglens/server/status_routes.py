"""``GET /api/status``: is the agent running, since when, and where each source stands."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from loglens.aggregate.totals import Totals
from loglens.contracts import SourceStatus as SourceReport
from loglens.contracts import printable
from loglens.query import Query


class FileStatus(BaseModel):
    """One open file of a source."""

    path: str
    offset: int = Field(description="bytes counted (complete lines)")
    size: int = Field(description="file size at the last poll")
    lag_bytes: int
    lines: int = Field(description="lines read from this file by this process")
    state: str = Field(description="following, or draining after a rotation or deletion")


class SourceStatus(BaseModel):
    """One source label: its current file and its totals."""

    source: str
    path: str | None = Field(description="the file followed at the source's path, if any")
    offset: int
    size: int
    lag_bytes: int = Field(description="bytes not yet counted, over all the source's files")
    lines: int
    parse_errors: int
    parse_error_reasons: dict[str, int] = Field(description="lines skipped, by reason")
    rotations: int
    truncations: int
    lines_per_second: float = Field(description="lines read per second over the last 10 s")
    healthy: bool = Field(description="false while the source fails (it is retried with backoff)")
    errors: dict[str, int] = Field(description="failures to open, read, parse or fold, by reason")
    last_error: str | None = Field(description="the failure, while failing")
    files: list[FileStatus]


class SinkStatus(BaseModel):
    """One sink: what it took, what failed, what waits."""

    sink: str
    written: int
    failed: int
    retried: int
    queued: int
    dropped: int
    healthy: bool
    last_error: str | None
    detail: dict[str, Any] = Field(default_factory=dict, description="what the sink reports of its own work")


class CheckpointStatus(BaseModel):
    """The last checkpoint saved."""

    saved_at: str | None
    saves: int
    failures: int = Field(description="saves that failed")
    healthy: bool


class Status(BaseModel):
    """The agent as a whole."""

    status: str
    uptime_seconds: float
    start_time: str
    metrics_count: int = Field(description="samples /metrics exposes now")
    checkpoint: CheckpointStatus
    sources: list[SourceStatus]
    sinks: list[SinkStatus]


def iso(when: float) -> str:
    """``when`` (seconds since the epoch) as ISO-8601 UTC."""
    return datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")


def build_status_router(query: Query, registry: CollectorRegistry) -> APIRouter:
    """Return the router of ``GET /api/status``."""
    router = APIRouter(tags=["status"])

    @router.get("/api/status", response_model=Status)
    def status() -> Status:
        """Uptime, metric count, checkpoint, and per source: file, offset, lag, lines, errors, rotations."""
        checkpoint = query.checkpoint()
        samples = sum(len(family.samples) for family in registry.collect())
        started = query.started_at
        return Status(
            status="running",
            uptime_seconds=round(query.wall() - started, 3),
            start_time=iso(started),
            metrics_count=samples,
            checkpoint=CheckpointStatus(
                saved_at=iso(checkpoint.saved_at) if checkpoint.saved_at else None,
                saves=checkpoint.saves,
                failures=checkpoint.failures,
                healthy=checkpoint.healthy,
            ),
            sources=[_source(view, query.totals) for view in query.sources()],
            sinks=[
                SinkStatus(sink=s.name, **{k: v for k, v in asdict(s).items() if k != "name"})
                for s in query.sinks()
            ],
        )

    return router


def _source(view: SourceReport, totals: Totals) -> SourceStatus:
    with totals.lock:
        counters = totals.sources.get(view.name)
        lines = counters.lines if counters else 0
        reasons = dict(counters.parse_errors) if counters else {}
    current = next((f for f in view.files if f.state == "following"), view.files[0] if view.files else None)
    return SourceStatus(
        source=printable(view.name),
        path=printable(current.path) if current else None,
        offset=current.offset if current else 0,
        size=current.size if current else 0,
        lag_bytes=view.lag_bytes,
        lines=lines,
        parse_errors=sum(reasons.values()),
        parse_error_reasons=reasons,
        rotations=view.rotations,
        truncations=view.truncations,
        lines_per_second=round(view.lines_per_second, 3),
        healthy=view.healthy,
        errors=view.errors,
        last_error=printable(view.last_error) if view.last_error else None,
        files=[FileStatus(**{**asdict(f), "path": printable(f.path)}) for f in view.files],
    )
