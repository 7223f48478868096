"""One JSON object per line; fields found by their common names.

    {"ts":"2025-08-07T15:23:52-04:00","service":"api","level":"WARN","msg":"slow query"}
    {"time":1754594632.5,"remote_addr":"10.0.0.1","method":"GET","uri":"/x","status":200,"bytes":512}

Timestamps may be strings in any shape :mod:`~loglens.parsing.timestamps` reads, or epoch seconds or
milliseconds. Decoding is a Python loop over orjson (about 1.5 us a line); JSON logs are rarely the
high-volume access logs the regex formats serve.
"""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl

from loglens.parsing.base import ParseResult, rejected_frame
from loglens.parsing.fields import section_of
from loglens.parsing.levels import normalize_levels
from loglens.parsing.timestamps import UTC_DATETIME, parse_epoch, parse_timestamps
from loglens.records import conform

ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "time", "timestamp", "@timestamp", "datetime", "date", "time_local", "time_iso8601"),
    "level": ("level", "severity", "lvl", "loglevel", "log.level", "levelname"),
    "message": ("msg", "message", "text", "log"),
    "service": ("service", "service.name", "app", "logger", "component"),
    "status": ("status", "status_code", "statusCode", "http.response.status_code", "response_status"),
    "method": ("method", "request_method", "http.request.method", "verb"),
    "path": ("path", "uri", "url", "request_uri", "url.path", "request_path"),
    "protocol": ("protocol", "server_protocol", "http_version"),
    "bytes": ("bytes", "body_bytes_sent", "bytes_sent", "size", "response_bytes", "http.response.body.bytes"),
    "client": ("client", "remote_addr", "client_ip", "ip", "remote_ip", "clientip", "source.ip"),
    "user": ("user", "remote_user", "user.name", "username"),
    "referer": ("referer", "referrer", "http_referer", "http.request.referrer"),
    "agent": ("agent", "user_agent", "http_user_agent", "useragent", "user_agent.original"),
    "duration": ("duration", "request_time", "elapsed", "response_time", "latency"),
    "duration_ms": ("duration_ms", "latency_ms", "elapsed_ms", "response_time_ms"),
}
#: As in access logs, ``-`` means "none" for these fields.
_DASH_IS_NONE = ("user", "referer", "agent")
_TEXT_FIELDS = (
    "level",
    "message",
    "service",
    "method",
    "path",
    "protocol",
    "client",
    "user",
    "referer",
    "agent",
)


def _first(obj: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = obj.get(name)
        if value is not None:
            return value
    return None


class JsonParser:
    """Reads JSON-lines records by common field names."""

    name = "json"

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = timezone

    def parse(self, lines: pl.Series) -> ParseResult:
        """Decode each line: lines not starting with ``{`` are ``no_match``; invalid objects ``bad_json``."""
        looks_like_object = lines.str.starts_with("{")
        if not looks_like_object.all():
            rest = ~looks_like_object
            other = ParseResult.reject(lines.filter(rest), "no_match", rest.arg_true())
            objects = self.parse(lines.filter(looks_like_object)).renumber(looks_like_object.arg_true())
            return ParseResult.combine([objects, other])
        values: dict[str, list[Any]] = {name: [] for name in ALIASES}
        good: list[bool] = []
        for line in lines.to_list():
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                good.append(False)
                continue
            if not isinstance(obj, dict):
                good.append(False)
                continue
            good.append(True)
            for name, aliases in ALIASES.items():
                values[name].append(_first(obj, aliases))
        mask = pl.Series(good, dtype=pl.Boolean)
        rows = mask.arg_true()
        rejected = rejected_frame(lines.filter(~mask), "bad_json", (~mask).arg_true())
        frame = pl.DataFrame(
            {
                name: pl.Series(name, [None if v is None else str(v) for v in vs], dtype=pl.String)
                for name, vs in values.items()
            }
        )
        ts_raw = frame["ts"]
        numeric = ts_raw.str.contains(r"^\d+(?:\.\d+)?$").fill_null(False)
        ts = parse_timestamps(
            ts_raw.zip_with(~numeric, pl.Series([None] * len(ts_raw), dtype=pl.String)), self.timezone
        )
        ts = ts.zip_with(~numeric, parse_epoch(ts_raw).cast(UTC_DATETIME))
        bad_ts = ts.is_null() & ts_raw.is_not_null()
        durations = frame["duration"].cast(pl.Float64, strict=False)
        durations = durations.fill_null(frame["duration_ms"].cast(pl.Float64, strict=False) / 1e3)
        records = frame.select(
            *[pl.col(name) for name in _TEXT_FIELDS if name not in ("level", *_DASH_IS_NONE)],
            *[pl.when(pl.col(name) != "-").then(pl.col(name)).alias(name) for name in _DASH_IS_NONE],
            pl.col("status").cast(pl.Float64, strict=False).cast(pl.Int16, strict=False),
            pl.col("bytes").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False),
        ).with_columns(
            ts,
            durations.alias("duration"),
            normalize_levels(frame["level"]),
            section_of(pl.col("path")).alias("section"),
            rows.alias("line"),
        )
        records = records.with_columns(
            pl.when(pl.col("status").is_not_null()).then(pl.col("bytes").fill_null(0)).alias("bytes")
        )
        if bad_ts.any():
            rejected = pl.concat(
                [
                    rejected,
                    rejected_frame(lines.filter(mask).filter(bad_ts), "bad_timestamp", rows.filter(bad_ts)),
                ]
            )
            records = records.filter(~bad_ts)
        return ParseResult(conform(records), rejected)
