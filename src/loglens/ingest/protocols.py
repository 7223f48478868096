"""The endpoints of the protocols other tools speak, by path, and their OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import Route
from starlette.types import ASGIApp

from loglens.config_sections import IngestConfig
from loglens.ingest.admission import Admission
from loglens.ingest.elastic import Bulk, CatHealth, IndexBulk
from loglens.ingest.endpoint import IngestStats
from loglens.ingest.loki import Loki
from loglens.ingest.otlp import Otlp
from loglens.ingest.protocol import ProtocolEndpoint
from loglens.ingest.spool import Spool


def protocol_endpoints(
    config: IngestConfig, spool: Spool, admission: Admission, stats: IngestStats, max_line_bytes: int
) -> tuple[dict[str, ASGIApp], APIRouter]:
    """Loki's push API, OTLP/HTTP logs and Elasticsearch's bulk API over ``spool``, with the gate of the
    other ingest endpoints: the endpoints by path, and a router for the paths with a parameter."""
    parts = (config, spool, admission, stats, max_line_bytes)
    bulk = ProtocolEndpoint(Bulk(), *parts)
    router = APIRouter()
    index_bulk = Route("/{index}/_bulk", IndexBulk(bulk), methods=["POST", "PUT"], include_in_schema=False)
    router.routes.append(index_bulk)
    endpoints: dict[str, ASGIApp] = {
        "/loki/api/v1/push": ProtocolEndpoint(Loki(config.max_body_bytes), *parts),
        "/v1/logs": ProtocolEndpoint(Otlp(), *parts),
        "/_bulk": bulk,
        "/_cat/health": CatHealth(),
    }
    return endpoints, router


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


def _with_index(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with the path's ``index`` parameter."""
    index = {"name": "index", "in": "path", "required": True, "schema": {"type": "string"}}
    item["post"]["parameters"] = [index]
    return item


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
    "/_bulk": _operation(
        "Elasticsearch's bulk API",
        "NDJSON action and document lines; each index or create document's message (or log, msg) is a "
        "line, its index the source. Also /{index}/_bulk. The answer has an item per action.",
        {"application/x-ndjson": {"schema": {"type": "string"}}},
        {"200": {"description": "the lines are on disk; `errors` and `items` say which were taken"}},
    ),
    "/{index}/_bulk": _with_index(_operation(
        "Elasticsearch's bulk API, into an index",
        "As /_bulk, the path's index being the source of the documents that name none.",
        {"application/x-ndjson": {"schema": {"type": "string"}}},
        {"200": {"description": "the lines are on disk; `errors` and `items` say which were taken"}},
    )),
    "/_cat/health": {"get": {
        "tags": ["ingest"], "summary": "Elasticsearch's health probe",
        "description": "One green node, as text, or JSON with `?format=json`: what some shippers ask first.",
        "responses": {"200": {"description": "green"}},
    }},
}  # fmt: skip
