"""``POST /api/logs`` (bulk) and ``POST /log_collector`` (one line): answered once the lines are fsynced."""

import asyncio
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from loglens.config import IngestConfig
from loglens.ingest.admission import Admission, Refused
from loglens.ingest.bodies import BadBody, Lines, collector_line, decompress, read_lines
from loglens.ingest.spool import Spool, SpoolFull
from loglens.server.guards import bearer_check, read_body

_ANSWER = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "lines on disk: `accepted` taken, `rejected` refused (the first `errors` say why)",
          "content": {"application/json": {"schema": _ANSWER}}},
    400: {"description": "malformed request: `{\"error\": ...}`"},
    401: {"description": "missing or wrong bearer token (ingest.token)"},
    413: {"description": "body over ingest.max_body_bytes (unzipped)"},
    415: {"description": "content type or encoding not read here"},
    429: {"description": "over the source's rate limit, or one source too many; see Retry-After"},
    503: {"description": "the spool is full or cannot be written; see Retry-After"},
}  # fmt: skip
#: Seconds a client is told to wait when the spool is full.
SPOOL_FULL_RETRY = 5


class IngestStats:
    """What the ingest endpoints did, for ``/metrics``."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()  # (endpoint, status) -> requests
        self.accepted: Counter[str] = Counter()  # source -> lines
        self.rejected: Counter[str] = Counter()  # source -> items refused


def build_ingest_router(
    config: IngestConfig, spool: Spool, admission: Admission, stats: IngestStats, max_line_bytes: int
) -> APIRouter:
    """The ingest routes over ``spool``."""
    router = APIRouter(tags=["ingest"])
    authorized = bearer_check(config.token, "ingest.token (LOGLENS__INGEST__TOKEN)")

    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin and ("*" in config.cors_origins or origin in config.cors_origins):
            response.headers["access-control-allow-origin"] = "*" if "*" in config.cors_origins else origin
            response.headers["vary"] = "Origin"
        return response

    def answer(
        request: Request, endpoint: str, status: int, body: dict[str, Any], **headers: str
    ) -> Response:
        stats.requests[endpoint, status] += 1
        return cors(request, JSONResponse(body, status_code=status, headers=headers or None))

    def unauthorized(request: Request, endpoint: str) -> Response:
        message = "a bearer token is required: Authorization: Bearer <ingest.token>"
        return answer(request, endpoint, 401, {"error": message}, **{"www-authenticate": "Bearer"})

    def error(request: Request, endpoint: str, exc: Refused | BadBody) -> Response:
        retry = getattr(exc, "retry_after", None)
        headers = {"retry-after": str(retry)} if retry is not None else {}
        return answer(request, endpoint, exc.status, {"error": str(exc)}, **headers)

    async def spool_lines(source: str, format_: str, lines: Lines) -> None:
        """Write ``lines`` to the spool and wait until they are fsynced.

        Raises:
            Refused: the spool is full or its write failed (503).
        """
        if lines.lines:
            try:
                await asyncio.wrap_future(spool.submit(source, format_, lines.lines))
            except SpoolFull as exc:
                raise Refused(503, str(exc), SPOOL_FULL_RETRY) from None
            except OSError as exc:
                raise Refused(
                    503, f"the spool cannot be written: {exc.strerror or exc}", SPOOL_FULL_RETRY
                ) from None
        stats.accepted[source] += len(lines.lines)
        stats.rejected[source] += lines.rejected

    async def body_of(request: Request) -> bytes:
        body = await read_body(request, config.max_body_bytes)
        if body is None:
            raise BadBody(f"the body is over {config.max_body_bytes} bytes (ingest.max_body_bytes)", 413)
        return decompress(body, request.headers.get("content-encoding", ""), config.max_body_bytes)

    def named(request: Request, key: str) -> str | None:
        return request.query_params.get(key) or request.headers.get(f"x-loglens-{key}")

    @router.post("/api/logs", summary="Send log lines in bulk", response_model=None, responses=_RESPONSES)
    async def ingest_logs(request: Request, allowed: Annotated[bool, Depends(authorized)]) -> Response:
        """Lines as `text/plain`, `application/x-ndjson` or a JSON array (of strings, or objects with the line
        in `message`, `log` or `msg`), gzip allowed. `source` and `format`: query parameters, or the headers
        `X-Loglens-Source` and `X-Loglens-Format`. A line that does not parse is taken (and counted as a parse
        error); only malformed requests are refused."""
        if not allowed:
            return unauthorized(request, "logs")
        try:
            source, format_ = admission.source_and_format(named(request, "source"), named(request, "format"))
            lines = read_lines(
                await body_of(request), request.headers.get("content-type", ""), max_line_bytes
            )
            admission.take(source, len(lines.lines))
            await spool_lines(source, format_, lines)
        except (Refused, BadBody) as exc:
            return error(request, "logs", exc)
        body = {"accepted": len(lines.lines), "rejected": lines.rejected, "errors": lines.errors}
        return answer(request, "logs", 200, body)

    @router.post("/log_collector", summary="Send one log line", response_model=None, responses=_RESPONSES)
    async def log_collector(request: Request, allowed: Annotated[bool, Depends(authorized)]) -> Response:
        """`{"message": "<one log line>"}`, the body log simulators send; `source` and `format` as for
        `/api/logs`."""
        if not allowed:
            return unauthorized(request, "log_collector")
        try:
            source, format_ = admission.source_and_format(named(request, "source"), named(request, "format"))
            lines = Lines()
            lines.add(collector_line(await body_of(request)), max_line_bytes, "message")
            if lines.rejected:
                raise BadBody(lines.errors[0], 413)
            admission.take(source, len(lines.lines))
            await spool_lines(source, format_, lines)
        except (Refused, BadBody) as exc:
            return error(request, "log_collector", exc)
        return answer(
            request, "log_collector", 200, {"accepted": len(lines.lines), "rejected": 0, "errors": []}
        )

    @router.options("/api/logs", include_in_schema=False)
    @router.options("/log_collector", include_in_schema=False)
    async def preflight(request: Request) -> Response:
        """CORS preflight: the allowed origins (ingest.cors_origins), methods and headers."""
        response = Response(status_code=204)
        response.headers["access-control-allow-methods"] = "POST, OPTIONS"
        response.headers["access-control-allow-headers"] = (
            "content-type, content-encoding, authorization, x-loglens-source, x-loglens-format"
        )
        response.headers["access-control-max-age"] = "600"
        return cors(request, response)

    return router
