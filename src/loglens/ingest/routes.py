"""``POST /api/logs`` (bulk) and ``POST /log_collector`` (one line): answered once the lines are fsynced.

Plain ASGI endpoints rather than FastAPI routes: FastAPI's per-request work (dependencies, the request
object, the response class) cost more than the whole of a one-line request (bench/README.md). Their
OpenAPI description is written here, by hand, in :data:`OPENAPI`.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from loglens.config_sections import IngestConfig
from loglens.ingest.admission import Admission, Refused
from loglens.ingest.bodies import BadBody, Lines, read_collector, read_lines
from loglens.ingest.endpoint import Header, IngestStats, SpoolEndpoint, send_answer
from loglens.ingest.spool import Outgoing, Spool

#: Request headers a browser may send (CORS preflight).
ALLOWED_HEADERS = "content-type, content-encoding, authorization, x-loglens-source, x-loglens-format"
#: Reads a body (unzipped) of a content type into lines, at most ``max_line_bytes`` each.
Reader = Callable[[bytes, str, int], Lines]


#: The ``endpoint`` labels of ``/api/logs`` and ``/log_collector``.
ENDPOINTS = ("logs", "log_collector")


class IngestEndpoint(SpoolEndpoint):
    """One ingest endpoint as an ASGI app: POST takes lines into the spool, OPTIONS answers CORS.

    Args:
        name: the endpoint's label in ``loglens_ingest_requests_total``.
        read: turns the body into lines.
    """

    def __init__(
        self,
        name: str,
        read: Reader,
        config: IngestConfig,
        spool: Spool,
        admission: Admission,
        stats: IngestStats,
        max_line_bytes: int,
    ) -> None:
        super().__init__(config, spool, admission, stats, max_line_bytes)
        self.name = name
        self.read = read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        extra = self._cors(headers)
        if scope["method"] == "OPTIONS":
            extra += [
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
            await send_answer(send, 204, b"", extra)
            return
        if scope["method"] != "POST":
            message = f"{scope['method']} is not allowed here: POST lines, or OPTIONS for CORS"
            await self._answer(send, 405, {"error": message}, [*extra, (b"allow", b"POST, OPTIONS")])
            return
        if not self.allows(headers):
            message = "a bearer token is required: Authorization: Bearer <ingest.token>"
            await self._answer(send, 401, {"error": message}, [*extra, (b"www-authenticate", b"Bearer")])
            return
        try:
            status, answer = 200, await self._take(scope, headers, receive)
        except (Refused, BadBody) as exc:
            status, answer = exc.status, {"error": str(exc)}
            retry = getattr(exc, "retry_after", None)
            if retry is not None:
                extra.append((b"retry-after", str(retry).encode()))
        await self._answer(send, status, answer, extra)

    async def _take(self, scope: Scope, headers: Headers, receive: Receive) -> dict[str, Any]:
        """Spool the request's lines; the 200 answer.

        Raises:
            Refused: source, format, rate or spool say no.
            BadBody: the body cannot be read.
        """
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"))) if scope["query_string"] else {}
        source, format_ = self.admission.source_and_format(
            query.get("source") or headers.get("x-loglens-source"),
            query.get("format") or headers.get("x-loglens-format"),
        )
        body = await self.body(headers, receive)
        lines = self.read(body, headers.get("content-type", ""), self.max_line_bytes)
        self.admission.take(source, len(lines.lines))
        await self.spool_frames([Outgoing(source, format_, lines.lines)] if lines.lines else [])
        self.stats.accepted[source] += len(lines.lines)
        self.stats.rejected[source] += lines.rejected
        return {"accepted": len(lines.lines), "rejected": lines.rejected, "errors": lines.errors}

    def _cors(self, headers: Headers) -> list[Header]:
        """The CORS headers for a request from ``Origin`` (ingest.cors_origins), if any."""
        origin = headers.get("origin")
        origins = self.config.cors_origins
        if not origin or ("*" not in origins and origin not in origins):
            return []
        allowed = "*" if "*" in origins else origin
        return [(b"access-control-allow-origin", allowed.encode("latin-1")), (b"vary", b"Origin")]

    async def _answer(self, send: Send, status: int, body: dict[str, Any], headers: list[Header]) -> None:
        self.stats.requests[self.name, status] += 1
        json_type = (b"content-type", b"application/json")
        await send_answer(send, status, orjson.dumps(body), [json_type, *headers])


def ingest_endpoints(
    config: IngestConfig, spool: Spool, admission: Admission, stats: IngestStats, max_line_bytes: int
) -> dict[str, IngestEndpoint]:
    """The ingest endpoints over ``spool``, by path."""
    parts = (config, spool, admission, stats, max_line_bytes)
    return {
        "/api/logs": IngestEndpoint(ENDPOINTS[0], read_lines, *parts),
        "/log_collector": IngestEndpoint(ENDPOINTS[1], read_collector, *parts),
    }


_ANSWER = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}
_NAMED = [
    {"name": "source", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "the lines' source label (or the header X-Loglens-Source); default ingest.source"},
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "how to parse the lines (or the header X-Loglens-Format); default ingest.format"},
]  # fmt: skip


def _operation(summary: str, description: str, body: dict[str, Any]) -> dict[str, Any]:
    def error(why: str) -> dict[str, Any]:
        return {"description": why, "content": {"application/json": {"schema": _ERROR}}}

    return {
        "tags": ["ingest"],
        "summary": summary,
        "description": description,
        "parameters": _NAMED,
        "requestBody": {"required": True, "content": body},
        "responses": {
            "200": {"description": "lines on disk: `accepted` taken, `rejected` refused (the first "
                    "`errors` say why)", "content": {"application/json": {"schema": _ANSWER}}},
            "400": error("malformed request"),
            "401": error("missing or wrong bearer token (ingest.token)"),
            "413": error("body over ingest.max_body_bytes (unzipped), or a line over parse.max_line_bytes"),
            "415": error("content type or encoding not read here"),
            "429": error("over the source's rate limit, or one source too many; see Retry-After"),
            "503": error("the spool is full or cannot be written; see Retry-After"),
        },
    }  # fmt: skip


_LINES = {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}}
#: The OpenAPI path items of the ingest endpoints.
OPENAPI: dict[str, dict[str, Any]] = {
    "/api/logs": {"post": _operation(
        "Send log lines in bulk",
        "Lines as `text/plain`, `application/x-ndjson` or a JSON array (of strings, or objects with the "
        "line in `message`, `log` or `msg`), gzip allowed. A line that does not parse is taken (and "
        "counted as a parse error); only malformed requests are refused.",
        {"text/plain": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}},
         "application/json": {"schema": _LINES}},
    )},
    "/log_collector": {"post": _operation(
        "Send one log line",
        '`{"message": "<one log line>"}`, the body log simulators send.',
        {"application/json": {"schema": {"type": "object", "required": ["message"],
                                         "properties": {"message": {"type": "string"}}}}},
    )},
}  # fmt: skip
