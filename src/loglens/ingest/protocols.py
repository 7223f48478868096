"""The endpoints of the protocols other tools speak, by path, and their OpenAPI description."""

from __future__ import annotations

from typing import Any

from loglens.config import IngestConfig
from loglens.ingest.admission import Admission
from loglens.ingest.loki import Loki
from loglens.ingest.otlp import Otlp
from loglens.ingest.protocol import ProtocolEndpoint
from loglens.ingest.routes import IngestStats
from loglens.ingest.spool import Spool


def protocol_endpoints(
    config: IngestConfig, spool: Spool, admission: Admission, stats: IngestStats, max_line_bytes: int
) -> dict[str, ProtocolEndpoint]:
    """Loki's push API and OTLP/HTTP logs over ``spool``, with the gate of the other ingest endpoints."""
    parts = (config, spool, admission, stats, max_line_bytes)
    return {
        "/loki/api/v1/push": ProtocolEndpoint(Loki(config.max_body_bytes), *parts),
        "/v1/logs": ProtocolEndpoint(Otlp(), *parts),
    }


def _operation(summary: str, description: str, content: dict[str, Any], ok: dict[str, Any]) -> dict[str, Any]:
    def error(why: str) -> dict[str, Any]:
        return {"description": why}

    return {"post": {
        "tags": ["ingest"], "summary": summary, "description": description,
        "requestBody": {"required": True, "content": content},
        "responses": {
            **ok,
            "400": error("malformed request"),
            "401": error("missing or wrong bearer token (ingest.token)"),
            "413": error("body over ingest.max_body_bytes (unzipped)"),
            "415": error("content type or encoding not read here"),
            "429": error("over the source's rate limit, or one source too many; see Retry-After"),
            "503": error("the spool is full or cannot be written; see Retry-After"),
        },
    }}  # fmt: skip


#: The OpenAPI path items of the protocol endpoints.
OPENAPI: dict[str, dict[str, Any]] = {
    "/loki/api/v1/push": _operation(
        "Loki's push API",
        "Streams of lines in JSON, or a snappy-compressed protobuf PushRequest (Promtail, Alloy); gzip or "
        "deflate allowed. Each stream's lines go to the source its labels name (service_name, service, "
        "app, application, job, container), or `?source=`.",
        {"application/json": {"schema": {"type": "object"}},
         "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}},
        {"204": {"description": "the lines are on disk"}},
    ),
    "/v1/logs": _operation(
        "OTLP/HTTP logs",
        "An ExportLogsServiceRequest in protobuf or in the OTLP JSON mapping, gzip allowed. severityNumber "
        "gives the level, the resource's service.name the source, the body the message. The answer is in "
        "the request's encoding.",
        {"application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
         "application/json": {"schema": {"type": "object"}}},
        {"200": {"description": "ExportLogsServiceResponse; partialSuccess counts records refused"}},
    ),
}  # fmt: skip
