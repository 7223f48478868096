"""``POST /v1/logs``: OTLP/HTTP logs, in protobuf and in the OTLP JSON mapping, with the spec's answers.

Each log record becomes one JSON line in the spool, parsed by the ``json`` format, so the archive keeps
it whole: ``{"ts": seconds, "level": ..., "service": ..., "message": body, "trace_id": ..., "span_id":
..., "attributes": {...}}``. ``severityNumber`` gives the level (its text when it has none), the
resource's ``service.name`` the source, and the body the message (a body that is not a string is written
as JSON). The answer is an ``ExportLogsServiceResponse`` in the request's encoding, with
``partialSuccess`` when records were refused (a record longer than ``parse.max_line_bytes``); errors are
a ``google.rpc.Status``, and 429 and 503 carry ``Retry-After``, as the OTLP spec says.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.datastructures import Headers

from loglens.ingest.bodies import BadBody
from loglens.ingest.protocol import Header, Streams, source_name

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
#: severityNumber ranges (1-4 TRACE ... 21-24 FATAL) as loglens's level words.
LEVELS = ("DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: How deep a body or attribute value is rendered; deeper parts become "...".
MAX_DEPTH = 16
_ID_KEYS = ("traceId", "spanId", "trace_id", "span_id")


class Otlp:
    """OTLP/HTTP logs (see the module)."""

    name = "otlp"
    methods: tuple[str, ...] = ("POST",)

    def decode(self, body: bytes, headers: Headers, max_line_bytes: int) -> Streams:
        """One JSON line per log record, by the source its resource's ``service.name`` names.

        Raises:
            BadBody: not an ``ExportLogsServiceRequest`` in protobuf or OTLP JSON (400), or another
                content type (415).
        """
        request = _request(body, _media_type(headers))
        streams = Streams()
        for resource_logs in request.resource_logs:
            service = _service(resource_logs.resource.attributes)
            lines = streams.of(source_name(service) if service else None, "json")
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    lines.add(_line(record, service), max_line_bytes, "a log record")
        return streams

    def accepted(self, streams: Streams, headers: Headers) -> tuple[int, list[Header], bytes]:
        """200 with an ``ExportLogsServiceResponse``, ``partialSuccess`` naming refused records."""
        response = ExportLogsServiceResponse()
        _, rejected = streams.total()
        if rejected:
            errors = [e for lines in streams.lines.values() for e in lines.errors]
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = f"{rejected} log record(s) refused: {errors[0]}"
        return 200, *_encode(response, headers)

    def refused(self, status: int, message: str, headers: Headers) -> tuple[list[Header], bytes]:
        """A ``google.rpc.Status`` with ``message``, in the request's encoding."""
        return _encode(status_pb2.Status(code=_RPC_CODES.get(status, 3), message=message), headers)


#: HTTP status -> the gRPC code a Status carries (INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED...).
_RPC_CODES = {400: 3, 401: 16, 405: 12, 413: 8, 415: 3, 429: 8, 503: 14}


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def _encode(message: Any, headers: Headers) -> tuple[list[Header], bytes]:
    """``message`` in the request's encoding: JSON for a JSON request, else protobuf."""
    if _media_type(headers) == JSON:
        body = orjson.dumps(json_format.MessageToDict(message))
        return [(b"content-type", JSON.encode())], body
    return [(b"content-type", PROTOBUF.encode())], message.SerializeToString()


def _request(body: bytes, media_type: str) -> Any:
    """The ``ExportLogsServiceRequest`` of a body.

    Raises:
        BadBody: as :meth:`Otlp.decode` says.
    """
    if media_type == PROTOBUF:
        try:
            return ExportLogsServiceRequest.FromString(body)
        except DecodeError as exc:
            raise BadBody(f"the body is not a protobuf ExportLogsServiceRequest: {exc}") from None
    if media_type != JSON:
        raise BadBody(f"content type {media_type!r} is not read here ({PROTOBUF} or {JSON})", 415)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadBody('expected an object {"resourceLogs": [...]}')
    try:
        return json_format.ParseDict(_hex_ids(data), ExportLogsServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise BadBody(f"the body is not an OTLP JSON ExportLogsServiceRequest: {str(exc)[:300]}") from None


def _hex_ids(data: dict[str, Any]) -> dict[str, Any]:
    """The OTLP JSON mapping writes trace and span ids in hex, where protobuf's JSON has base64.

    Raises:
        BadBody: an id that is not hex.
    """
    for resource_logs in _items(data, "resourceLogs", "resource_logs"):
        for scope_logs in _items(resource_logs, "scopeLogs", "scope_logs"):
            for record in _items(scope_logs, "logRecords", "log_records"):
                for key in _ID_KEYS:
                    value = record.get(key)
                    if isinstance(value, str):
                        try:
                            record[key] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError:
                            raise BadBody(f"{key} {value[:40]!r} is not hex") from None
    return data


def _items(data: Any, *keys: str) -> list[dict[str, Any]]:
    for key in keys:
        value = data.get(key) if isinstance(data, dict) else None
        if isinstance(value, list):
            return [item for item in value if isinstance(item, dict)]
    return []


def _service(attributes: Any) -> str | None:
    for attribute in attributes:
        if attribute.key == "service.name" and attribute.value.string_value:
            return str(attribute.value.string_value)
    return None


def _line(record: Any, service: str | None) -> str:
    """The JSON line of one log record."""
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    number = record.severity_number
    fields: dict[str, Any] = {}
    if nanos:
        fields["ts"] = nanos / 1e9
    level = LEVELS[(number - 1) // 4] if 1 <= number <= 24 else record.severity_text
    if level:
        fields["level"] = level
    if service:
        fields["service"] = service
    fields["message"] = _text(record.body) if record.HasField("body") else ""
    if record.trace_id:
        fields["trace_id"] = record.trace_id.hex()
    if record.span_id:
        fields["span_id"] = record.span_id.hex()
    if record.attributes:
        fields["attributes"] = {a.key: _value(a.value, 0) for a in record.attributes}
    return orjson.dumps(fields).decode()


def _text(value: AnyValue) -> str:
    """A body as the line's message: a string as it is, anything else as JSON."""
    if value.WhichOneof("value") == "string_value":
        return str(value.string_value)
    return orjson.dumps(_value(value, 0)).decode()


def _value(value: AnyValue, depth: int) -> Any:
    """An ``AnyValue`` as plain JSON data (bytes in base64), at most :data:`MAX_DEPTH` deep."""
    if depth >= MAX_DEPTH:
        return "..."
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _value(item.value, depth + 1) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind == "double_value":
        number = value.double_value
        return number if number == number and abs(number) != float("inf") else str(number)
    return None if kind is None else getattr(value, kind)
