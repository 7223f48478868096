"""``PUT``/``POST``/``DELETE /metrics/job/{job}{/label/value}*``: the Pushgateway protocol.

``prometheus_client.push_to_gateway`` (PUT), ``pushadd_to_gateway`` (POST) and ``delete_from_gateway``
(DELETE) work against loglens unchanged; the answers carry the JSON shape of ``POST /api/metrics``.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from loglens.config_sections import PushConfig
from loglens.ingest.bodies import BadBody, decompress
from loglens.push.gateway import BadExposition, Gateway, parse_exposition
from loglens.push.grouping import GroupingError, grouping_key
from loglens.push.models import PushResponse
from loglens.push.routes import error_response, respond
from loglens.server.guards import bearer_check, read_body

#: Media types of the text exposition format (what prometheus_client sends), and none.
TEXT_TYPES = frozenset({"text/plain", "text/plain;version=0.0.4", ""})
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": PushResponse, "description": "every metric applied"},
    202: {"model": PushResponse, "description": "the group deleted"},
    400: {"model": PushResponse, "description": "not a grouping key, not the text format, or metrics "
          "refused (each named; the others are applied, `partial_success`)"},
    401: {"model": PushResponse, "description": "missing or wrong bearer token (push.token)"},
    413: {"model": PushResponse, "description": "body over push.max_body_bytes (unzipped)"},
    415: {"model": PushResponse, "description": "not the text exposition format, or not gzip"},
}  # fmt: skip
_METHODS = {
    "PUT": "Replace a group's metrics (push_to_gateway)",
    "POST": "Replace the metrics of a group that the push names (pushadd_to_gateway)",
    "DELETE": "Delete a group's metrics (delete_from_gateway)",
}
_BODY = {"required": False, "content": {"text/plain": {"schema": {"type": "string"}}}}


def build_gateway_router(config: PushConfig, gateway: Gateway) -> APIRouter:
    """The router of the Pushgateway protocol over ``gateway`` (token and limits of ``push``)."""
    router = APIRouter(tags=["push"])
    authorized = bearer_check(config.token, "push.token (LOGLENS__PUSH__TOKEN)")

    async def pushgateway(
        request: Request, grouping: str, allowed: Annotated[bool, Depends(authorized)]
    ) -> Response:
        """PUT replaces the group's metrics, POST those of the names it sends, DELETE removes the group.

        The path is the grouping key: `job/<job>` then `<label>/<value>` pairs, a name ending in
        `@base64` carrying its value in URL-safe base64. The body is the text exposition format.
        """
        if not allowed:
            return error_response(401, "a bearer token is required: Authorization: Bearer <push.token>", True)
        try:
            key = grouping_key(request.scope.get("raw_path") or request.url.path.encode())
        except GroupingError as exc:
            return error_response(400, str(exc))
        if request.method == "DELETE":
            gateway.delete(key)
            return respond(202, 0, [])
        try:
            text = await _text(request, config.max_body_bytes)
            parsed = parse_exposition(text, key)
        except BadBody as exc:
            return error_response(exc.status, str(exc))
        except BadExposition as exc:
            return error_response(400, str(exc))
        errors = gateway.push(key, parsed, replace_all=request.method == "PUT")
        processed = len(parsed.metrics) - len({e.index for e in errors if e.index is not None})
        return respond(400 if errors else 200, max(processed, 0), errors)

    for method, summary in _METHODS.items():
        router.add_api_route(
            "/metrics/{grouping:path}", pushgateway, methods=[method], summary=summary,
            operation_id=f"pushgateway_{method.lower()}", response_model=None, responses=_ANSWERS,
            openapi_extra={"requestBody": _BODY} if method != "DELETE" else None,
        )  # fmt: skip
    return router


async def _text(request: Request, limit: int) -> str:
    """The body as text: the declared type checked, unzipped, at most ``limit`` bytes.

    Raises:
        BadBody: too large (413), not the text format or not gzip (415), or not UTF-8 (400).
    """
    media_type = request.headers.get("content-type", "").replace(" ", "").lower()
    base = media_type.partition(";")[0]
    if base not in TEXT_TYPES:
        raise BadBody(
            f"content type {base!r} is not read here: send the text exposition format (text/plain)", 415
        )
    body = await read_body(request.stream(), request.headers.get("content-length", ""), limit)
    if body is None:
        raise BadBody(f"the body is over {limit} bytes (push.max_body_bytes)", 413)
    body = decompress(body, request.headers.get("content-encoding", ""), limit, "push.max_body_bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8: {exc}") from None
