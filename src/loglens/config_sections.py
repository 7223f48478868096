"""The sections of the settings (``server:``, ``parse:``, ``push:``, ...), each a pydantic model.

:mod:`loglens.config` puts them together into :class:`~loglens.config.Settings` and loads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loglens.alerts.config import seconds_of
from loglens.metric_names import NAME, reserved_prefix

FormatName = Literal["auto", "common", "combined", "iso", "json", "level", "vhost_combined"]
#: Labels of loglens's own metrics: a source's extra labels cannot take them.
BUILTIN_LABELS = frozenset({"source", "reason", "method", "status", "section", "level", "le"})


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class SourceConfig(Section):
    """One log input of ``loglens run``."""

    path: str = Field(description="file, glob or folder to follow")
    format: FormatName = "auto"
    pattern: str | None = Field(default=None, description="custom regex or LogFormat string")
    name: str | None = Field(default=None, description="value of the `source` label; default: the path")
    labels: dict[str, str] = Field(default_factory=dict, description="extra labels on this source's metrics")

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not NAME.fullmatch(name) or name.startswith("__"):
                raise ValueError(
                    f"{name!r} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
                )
            if name in BUILTIN_LABELS:
                raise ValueError(
                    f"label {name!r} is set by loglens itself ({', '.join(sorted(BUILTIN_LABELS))})"
                )
        return labels


class ServerConfig(Section):
    """The HTTP server of ``loglens run``."""

    listen: str = "127.0.0.1:9911"
    max_connections: int = Field(default=100, ge=1, description="connections held; more drop the oldest idle")
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="a request must arrive whole within this, or it is dropped"
    )

    @field_validator("listen", mode="before")
    @classmethod
    def _host_port(cls, value: object) -> object:
        """``HOST:PORT``; ``:PORT``: every interface (as Prometheus exporters read it); ``PORT``: loopback."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return value  # pydantic names the wrong type
        text = value.strip()
        host, sep, port = text.rpartition(":")
        if not sep:
            host, port = "127.0.0.1", text
        elif not host:
            host = "0.0.0.0"
        if not port.isdigit() or not 0 <= int(port) <= 65535 or (host.startswith("[") != host.endswith("]")):
            raise ValueError(f"expected HOST:PORT, :PORT or PORT (0-65535), got {value!r}")
        return f"{host}:{int(port)}"

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the server."""
        host = self.host
        return host == "localhost" or host == "::1" or host.startswith("127.")

    @property
    def host(self) -> str:
        """Host part of ``listen``, brackets of IPv6 literals removed."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """Port part of ``listen``."""
        return int(self.listen.rpartition(":")[2])


class ParseConfig(Section):
    """How lines become records."""

    format: FormatName = "auto"
    pattern: str | None = None
    timezone: str = Field(default="UTC", description="zone assumed for timestamps that carry none")
    max_line_bytes: int = Field(default=64 * 1024, ge=256)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        from loglens.parsing.timestamps import check_zone  # polars: imported when a zone is given

        check_zone(zone)
        return zone


def default_state_dir() -> Path:
    """``/var/lib/loglens`` for root, else ``$XDG_STATE_HOME/loglens`` (``~/.local/state/loglens``)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/loglens")
    base = os.environ.get("XDG_STATE_HOME") or ""
    return (Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state") / "loglens"


class StateConfig(Section):
    """Where checkpoints live."""

    dir: Path = Field(default_factory=default_state_dir)
    checkpoint_interval_seconds: float = Field(default=1.0, gt=0)


class TailConfig(Section):
    """File following."""

    poll_interval_seconds: float = Field(default=0.25, gt=0)
    from_start: bool = False
    rotate_wait_seconds: float = Field(
        default=5.0, ge=0, description="a rotated or deleted file is read until idle this long, then closed"
    )


class LimitsConfig(Section):
    """Bounds that keep memory flat whatever the input."""

    max_label_values: int = Field(default=1000, ge=1, description="distinct values per input-derived label")
    section_limit: int = Field(default=100, ge=1, description="top-K sections exposed as their own series")
    series_ttl_seconds: float = Field(
        default=600.0, gt=0, description="idle series leave /metrics after this"
    )
    lateness_seconds: float = Field(default=120.0, ge=0, description="how late a line may arrive for windows")
    future_skew_seconds: float = Field(
        default=300.0, ge=0, description="how far ahead of the clock a line's time may be for windows"
    )


class AlertConfig(Section):
    """The built-in high-traffic alert, evaluated in every mode (``run``, ``watch``, ``demo``)."""

    threshold: float = Field(default=10.0, gt=0, description="hits/s, averaged over the window, that fire it")
    window_seconds: int = Field(default=120, ge=1, description="seconds the rate is averaged over")
    for_seconds: float = Field(default=0, ge=0, description="over the threshold this long before it fires")
    incident_limit: int = Field(default=3, ge=1, description="past incidents kept")

    @field_validator("for_seconds", mode="before")
    @classmethod
    def _span(cls, value: object) -> object:
        """``10s``, ``1m`` or seconds."""
        return seconds_of(value)


class WebConfig(Section):
    """The web page (``GET /``) and the HTML report."""

    rows: int = Field(default=100, ge=1, le=100_000, description="rows each panel of the page lists, at most")
    update_seconds: float = Field(
        default=1.0, ge=0.1, le=1.0, description="seconds between the page's live updates"
    )
    panels: bool = Field(
        default=True, description="fold the goaccess panels (files, hosts, agents, referrers...) for the page"
    )


class PushConfig(Section):
    """``POST /api/metrics``."""

    prefix: str = "app"
    namespace: str = ""
    token: str | None = None
    max_series_per_metric: int = Field(default=1000, ge=1)
    max_series: int = Field(default=10000, ge=1)
    max_label_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="label names and values over all pushed series"
    )
    ttl_seconds: float = Field(default=600.0, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    summary_window_seconds: float = Field(
        default=600.0, gt=0, description="observed summaries report quantiles over this sliding window"
    )
    summary_max_observations: int = Field(
        default=500, ge=1, description="most recent observations kept per observed summary series"
    )

    @field_validator("prefix", "namespace")
    @classmethod
    def _name_part(cls, value: str) -> str:
        if value and not NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a metric name part ([a-zA-Z_][a-zA-Z0-9_]*)")
        return value

    @property
    def metric_prefix(self) -> str:
        """What pushed names start with: ``namespace_prefix``, either alone, or nothing."""
        return "_".join(part for part in (self.namespace, self.prefix) if part)

    @model_validator(mode="after")
    def _not_reserved(self) -> PushConfig:
        taken = reserved_prefix(self.metric_prefix + "_") if self.metric_prefix else None
        if taken is not None:
            raise ValueError(
                f"push prefix {self.metric_prefix!r} would put pushed metrics under {taken}*, kept for "
                "loglens's own metrics and its process, platform and GC collectors"
            )
        return self


class IngestConfig(Section):
    """``POST /api/logs`` and ``POST /log_collector``: lines sent over HTTP, spooled, then counted."""

    enabled: bool = True
    token: str | None = Field(default=None, description="bearer token the ingest endpoints require")
    source: str = Field(default="http", description="source label of requests that name none")
    format: FormatName = Field(default="auto", description="format of requests that name none")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="per request, unzipped")
    max_sources: int = Field(default=100, ge=1, description="distinct source labels ingest may create")
    rate_limit_lines_per_second: float | None = Field(
        default=None, gt=0, description="per source; over it requests get 429 with Retry-After"
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"], description="origins browsers may send from"
    )
    spool_segment_bytes: int = Field(
        default=64 * 1024 * 1024, ge=4096, description="spool files roll past this"
    )
    spool_max_bytes: int = Field(
        default=1 << 30, ge=1 << 20, description="above this, unread spool requests get 503 with Retry-After"
    )


class SyslogConfig(Section):
    """Syslog listeners of ``loglens run`` (UDP and TCP): messages into the ingest spool."""

    listen: list[str] = Field(
        default_factory=list, description="udp://HOST:PORT and tcp://HOST:PORT addresses (--syslog)"
    )
    max_connections: int = Field(default=100, ge=1, description="TCP connections open at once")

    @field_validator("listen")
    @classmethod
    def _addresses(cls, urls: list[str]) -> list[str]:
        for url in urls:
            listen_address(url)
        return urls


def listen_address(url: str) -> tuple[str, str, int]:
    """The transport, host and port of ``udp://host:port`` or ``tcp://host:port``.

    Raises:
        ValueError: another scheme, or no host or port.
    """
    wrong = f"{url!r} is not udp://HOST:PORT or tcp://HOST:PORT"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(wrong) from None
    if parts.scheme not in ("udp", "tcp") or not parts.hostname or port is None or parts.path:
        raise ValueError(wrong)
    return parts.scheme, parts.hostname, port


class S3Config(Section):
    """Where ``archive.backend: s3`` uploads segments (credentials: the usual AWS environment and files)."""

    endpoint_url: str | None = Field(default=None, description="an S3-compatible server; default: AWS")
    bucket: str | None = None
    prefix: str = Field(default="", description="key prefix of every segment (folders, e.g. `logs/prod`)")
    region: str | None = Field(default=None, description="default: AWS_REGION, AWS_DEFAULT_REGION or config")

    @field_validator("prefix")
    @classmethod
    def _folder(cls, prefix: str) -> str:
        return prefix.strip("/")


class ArchiveConfig(Section):
    """The archive of ``loglens run``: every accepted line, in compressed segments, locally or in S3."""

    enabled: bool = True
    files: bool = Field(
        default=False, description="also archive followed files and stdin (ingested lines always are)"
    )
    backend: Literal["local", "s3"] = "local"
    dir: Path | None = Field(default=None, description="the local archive; default: {state.dir}/archive")
    segment_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="a segment closes at this")
    segment_max_seconds: float = Field(
        default=300.0, gt=0, description="a segment closes this long after its first line arrived"
    )
    retention: float | None = Field(
        default=None, gt=0, description="delete segments older than this (seconds, 12h, 7d); default: never"
    )
    compression_level: int = Field(
        default=2, ge=0, le=3, description="gzip level, 0 (fastest) to 3 (smallest)"
    )
    s3: S3Config = Field(default_factory=S3Config)

    @field_validator("retention", mode="before")
    @classmethod
    def _age(cls, value: object) -> object:
        """``7d``, ``12h``, ``90m``, ``30s`` or seconds."""
        return seconds_of(value)

    @model_validator(mode="after")
    def _bucket(self) -> ArchiveConfig:
        if self.backend == "s3" and not self.s3.bucket:
            raise ValueError("archive.backend s3 needs archive.s3.bucket")
        return self

    def folder(self, state_dir: Path) -> Path:
        """The local archive's folder."""
        return self.dir if self.dir is not None else state_dir / "archive"
