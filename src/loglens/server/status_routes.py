"""``GET /api/status``: is the agent running, since when, and where each source stands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from loglens.aggregate.totals import Totals
from loglens.clock import Clock
from loglens.sources.file_tail import FileFollower
from loglens.sources.tail_views import SourceView


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
    rotations: int
    truncations: int
    lines_per_second: float
    files: list[FileStatus]


class CheckpointStatus(BaseModel):
    """The last checkpoint saved."""

    saved_at: str | None
    saves: int


class Status(BaseModel):
    """The agent as a whole."""

    status: str
    uptime_seconds: float
    start_time: str
    metrics_count: int = Field(description="samples /metrics exposes now")
    checkpoint: CheckpointStatus
    sources: list[SourceStatus]


def iso(when: float) -> str:
    """``when`` (seconds since the epoch) as ISO-8601 UTC."""
    return datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")


def build_status_router(
    follower: FileFollower,
    totals: Totals,
    registry: CollectorRegistry,
    clock: Clock,
    checkpoint: Callable[[], tuple[float | None, int]],
) -> APIRouter:
    """Return the router of ``GET /api/status``; ``checkpoint()`` gives (last save time, saves)."""
    router = APIRouter(tags=["status"])
    started = clock.now()

    @router.get("/api/status", response_model=Status)
    def status() -> Status:
        """Uptime, metric count, checkpoint, and per source: file, offset, lag, lines, errors, rotations."""
        saved_at, saves = checkpoint()
        samples = sum(len(family.samples) for family in registry.collect())
        return Status(
            status="running",
            uptime_seconds=round(clock.now() - started, 3),
            start_time=iso(started),
            metrics_count=samples,
            checkpoint=CheckpointStatus(saved_at=iso(saved_at) if saved_at else None, saves=saves),
            sources=[_source(view, totals) for view in follower.sources()],
        )

    return router


def _source(view: SourceView, totals: Totals) -> SourceStatus:
    with totals.lock:
        counters = totals.sources.get(view.name)
        lines = counters.lines if counters else 0
        errors = sum(counters.parse_errors.values()) if counters else 0
    current = next((f for f in view.files if f.state == "following"), view.files[0] if view.files else None)
    return SourceStatus(
        source=view.name,
        path=current.path if current else None,
        offset=current.offset if current else 0,
        size=current.size if current else 0,
        lag_bytes=view.lag_bytes,
        lines=lines,
        parse_errors=errors,
        rotations=view.rotations,
        truncations=view.truncations,
        lines_per_second=round(view.lines_per_second, 3),
        files=[FileStatus(**asdict(f)) for f in view.files],
    )
