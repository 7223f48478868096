"""The ``anomaly:`` section: the rate detectors every runtime with windows keeps (docs/anomaly.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: The detectors of rates.
DETECTORS = ("zscore", "seasonal")
#: The detectors of log patterns (anomaly/patterns.py).
PATTERN_DETECTORS = ("new_pattern", "pattern_rate")


class AnomalyConfig(BaseModel):
    """How unusual a rate must be, over which window and baseline, to be called an anomaly."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="keep the rate detectors (metrics, /api/anomalies)")
    threshold: float = Field(default=6.0, gt=0, description="the score, up or down, that is an anomaly")
    window_seconds: int = Field(default=5, ge=1, le=60, description="complete seconds of the current count")
    baseline_minutes: int = Field(default=60, ge=5, le=1440, description="zscore: minutes looked back")
    warmup_minutes: int = Field(default=15, ge=1, description="zscore: whole minutes seen before it scores")
    min_count: int = Field(
        default=10, ge=1, description="records in the window (observed for a rise, expected for a drop)"
    )
    max_sources: int = Field(default=50, ge=0, description="sources with their own series (rest pooled)")
    history_days: int = Field(default=28, ge=1, le=56, description="seasonal: days of history kept")
    seasonal_min_days: int = Field(default=1, ge=1, description="seasonal: earlier days needed to score")
    recent: int = Field(default=100, ge=1, description="anomalies /api/anomalies keeps")
    patterns: bool = Field(default=True, description="mine application messages: new_pattern, pattern_rate")
    pattern_warmup: int = Field(default=1000, ge=0, description="messages mined before a new template counts")
    max_templates: int = Field(
        default=1000, ge=10, description="templates kept (least recently seen evicted)"
    )
    max_patterns: int = Field(default=100, ge=0, description="templates whose rate is scored (pattern_rate)")
