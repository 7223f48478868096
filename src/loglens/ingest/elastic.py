"""``POST /_bulk`` and ``/{index}/_bulk``: Elasticsearch's bulk API, as log shippers use it.

The body is NDJSON: an action line (``index``, ``create``, ``update`` or ``delete``), then, but for
``delete``, a document line. A document of ``index`` or ``create`` becomes a line: its ``message``,
``log``, ``msg`` or ``MESSAGE`` field (where Filebeat, Logstash, Fluent Bit, rsyslog and syslog-ng put
it), parsed with the request's or the configured format as lines of ``POST /api/logs`` are; a document
with none of them is the line itself, as JSON. Its source is its index (``_index``, else the path's, else the
default). ``update`` and ``delete`` are refused item by item: loglens keeps lines, it does not edit
them. The answer has Elasticsearch's shape, an item per action, and the ``X-Elastic-Product`` header
the clients check.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from loglens.ingest.bodies import LINE_FIELDS, BadBody
from loglens.ingest.protocol import Header, ProtocolEndpoint, Streams, source_name

#: The header Elasticsearch's clients check to know they talk to Elasticsearch.
PRODUCT = (b"x-elastic-product", b"Elasticsearch")
MEDIA_TYPES = frozenset({
    "application/x-ndjson", "application/json", "", "application/vnd.elasticsearch+x-ndjson",
    "application/vnd.elasticsearch+json",
})  # fmt: skip
ACTIONS = ("index", "create", "update", "delete")
#: Where a document holds its line: those of ``/api/logs``, and syslog-ng's ``MESSAGE``.
DOCUMENT_LINE_FIELDS = (*LINE_FIELDS, "MESSAGE")
_JSON = [(b"content-type", b"application/json"), PRODUCT]
#: The result of an item taken, as Elasticsearch writes it.
_CREATED = {"_version": 1, "result": "created", "status": 201, "_seq_no": 0, "_primary_term": 1,
            "_shards": {"total": 1, "successful": 1, "failed": 0}}  # fmt: skip


@dataclass
class BulkStreams(Streams):
    """The lines of a bulk request, and one result per action, in order."""

    items: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


class Bulk:
    """The bulk API (see the module); ``index`` is the path's index, None for ``/_bulk``."""

    name = "bulk"
    methods: tuple[str, ...] = ("POST", "PUT")

    def __init__(self, index: str | None = None) -> None:
        self.index = index

    def decode(self, body: bytes, headers: Headers, max_line_bytes: int) -> BulkStreams:
        """One line per ``index`` or ``create`` document, by index; an item per action.

        Raises:
            BadBody: another content type (415), or an action line that is not one (400, as
                Elasticsearch refuses the whole request then).
        """
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise BadBody(f"content type {media_type!r} is not read here (application/x-ndjson)", 415)
        streams = BulkStreams()
        rows = body.split(b"\n")
        ids = f"{uuid.uuid4().hex[:20]}{{:012x}}"  # ids unique to the request, then counted: one random draw
        at = 0
        while at < len(rows):
            raw = rows[at]
            at += 1
            if not raw.strip():
                continue
            action, meta = _action(raw, at)
            index = meta.get("_index") if isinstance(meta.get("_index"), str) else self.index
            item: dict[str, Any] = {"_index": index or "loglens", "_id": meta.get("_id") or ids.format(at)}
            streams.items.append({action: item})
            if action == "delete":
                _refuse(item, 400, "action_request_validation_exception", "loglens does not delete lines")
                streams.rejected += 1
                continue
            while at < len(rows) and not rows[at].strip():
                at += 1
            if at >= len(rows):
                raise BadBody(f"line {at}: the {action} action has no document line after it")
            document = rows[at]
            at += 1
            if action == "update":
                _refuse(item, 400, "action_request_validation_exception", "loglens does not update lines")
                streams.rejected += 1
                continue
            line = _line_of(document)
            if line is None:
                _refuse(item, 400, "document_parsing_exception", f"line {at}: the document is not JSON")
                streams.rejected += 1
                continue
            lines = streams.of(source_name(index) if index else None)
            before = lines.rejected
            lines.add(line, max_line_bytes, f"line {at}")
            if lines.rejected > before:
                _refuse(item, 400, "document_parsing_exception", lines.errors[-1] if lines.errors else "")
                continue
            item.update(_CREATED)
        return streams

    def accepted(self, streams: Streams, headers: Headers) -> tuple[int, list[Header], bytes]:
        """200 with ``errors`` and an item per action."""
        items = streams.items if isinstance(streams, BulkStreams) else []
        took = int((time.monotonic() - streams.started) * 1000) if isinstance(streams, BulkStreams) else 0
        errors = any(next(iter(item.values())).get("status", 201) >= 300 for item in items)
        return 200, _JSON, orjson.dumps({"took": took, "errors": errors, "items": items})

    def refused(self, status: int, message: str, headers: Headers) -> tuple[list[Header], bytes]:
        """Elasticsearch's error shape."""
        kind = {429: "es_rejected_execution_exception", 401: "security_exception", 413: "content_too_long",
                415: "media_type_header_exception", 503: "es_rejected_execution_exception",
                405: "method_not_allowed"}.get(status, "illegal_argument_exception")  # fmt: skip
        error = {"type": kind, "reason": message}
        return _JSON, orjson.dumps({"error": {"root_cause": [error], **error}, "status": status})


def _action(raw: bytes, number: int) -> tuple[str, dict[str, Any]]:
    """The action of an action line and its metadata.

    Raises:
        BadBody: not ``{"<action>": {...}}``.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or len(data) != 1:
        raise BadBody(f'line {number}: expected an action such as {{"index": {{}}}}, got {raw[:60]!r}')
    [(action, meta)] = data.items()
    if action not in ACTIONS or not isinstance(meta, dict):
        raise BadBody(f"line {number}: {action[:40]!r} is not one of {', '.join(ACTIONS)} with an object")
    return action, meta


def _line_of(document: bytes) -> str | None:
    """A document's line: its message field, or the document itself; None when it is not JSON."""
    try:
        data = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict):
        for key in DOCUMENT_LINE_FIELDS:
            value = data.get(key)
            if isinstance(value, str):
                return value
    return document.decode("utf-8", "replace").strip()


def _refuse(item: dict[str, Any], status: int, kind: str, reason: str) -> None:
    item.update({"status": status, "error": {"type": kind, "reason": reason}})


class IndexBulk:
    """``/{index}/_bulk`` as an ASGI app (a Starlette route's endpoint): the bulk endpoint of ``/_bulk``,
    the path's index as the default one."""

    def __init__(self, endpoint: ProtocolEndpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = copy.copy(self.endpoint)
        endpoint.protocol = Bulk(str(scope.get("path_params", {}).get("index", "")) or None)
        await endpoint(scope, receive, send)


class CatHealth:
    """``GET /_cat/health``, the probe some clients make: one green node, as text or ``?format=json``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = time.time()
        clock = time.strftime("%H:%M:%S", time.gmtime(now))
        if b"format=json" in scope.get("query_string", b""):
            body = orjson.dumps([{"epoch": str(int(now)), "timestamp": clock, "cluster": "loglens",
                                  "status": "green", "node.total": "1", "node.data": "1"}])  # fmt: skip
            headers = _JSON
        else:
            body = f"{int(now)} {clock} loglens green 1 1\n".encode()
            headers = [(b"content-type", b"text/plain; charset=UTF-8"), PRODUCT]
        status = 200 if scope["method"] in ("GET", "HEAD") else 405
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
