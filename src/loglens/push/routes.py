"""``POST /api/metrics``: services push their own metrics, validated, into a :class:`PushStore`."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response

from loglens.config_sections import PushConfig
from loglens.push.models import PushError, PushResponse, request_schema, validate_body
from loglens.push.store import PushStore
from loglens.server.guards import bearer_check, read_body

_ERROR_RESPONSE = {"model": PushResponse}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": PushResponse, "description": "all metrics applied, or some (`partial_success`)"},
    400: {**_ERROR_RESPONSE, "description": "invalid body or no metric applicable; each problem named"},
    401: {**_ERROR_RESPONSE, "description": "missing or wrong bearer token"},
    413: {**_ERROR_RESPONSE, "description": "body over push.max_body_bytes"},
    415: {**_ERROR_RESPONSE, "description": "content type is not application/json"},
}


def build_push_router(config: PushConfig, store: PushStore) -> APIRouter:
    """Return the router serving ``POST /api/metrics`` into ``store``.

    With ``config.token`` set, requests must carry ``Authorization: Bearer <token>``, and the OpenAPI
    document says so.
    """
    router = APIRouter(tags=["push"])
    authorized = bearer_check(config.token, "push.token (LOGLENS__PUSH__TOKEN)")

    @router.post(
        "/api/metrics",
        summary="Push a batch of metrics",
        response_model=None,
        responses=_RESPONSES,
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": request_schema()}}}
        },
    )
    async def push_metrics(request: Request, allowed: Annotated[bool, Depends(authorized)]) -> Response:
        """Push a batch of metrics: each valid one is applied; the answer says which, and what is wrong
        with the others."""
        if not allowed:
            return error_response(401, "a bearer token is required: Authorization: Bearer <push.token>", True)
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            return error_response(415, f"content type must be application/json, got {media_type or 'none'!r}")
        declared = request.headers.get("content-length", "")
        body = await read_body(request.stream(), declared, config.max_body_bytes)
        if body is None:
            return error_response(
                413, f"body is over the limit of {config.max_body_bytes} bytes (push.max_body_bytes)"
            )
        try:
            batch = validate_body(body)
        except ValueError as exc:
            return error_response(400, f"body is not valid JSON: {exc}")
        invalid = len({e.index for e in batch.errors if e.index is not None})
        if batch.source is None:
            store.count_rejected(invalid + len(batch.metrics))
            return respond(400, 0, batch.errors)
        store.count_rejected(invalid)
        errors = store.apply(batch.source, batch.mode, batch.metrics)
        processed = len(batch.metrics) - len(errors)
        errors = sorted([*batch.errors, *errors], key=lambda e: -1 if e.index is None else e.index)
        return respond(200 if processed else 400, processed, errors)

    return router


def respond(status_code: int, processed: int, errors: list[PushError]) -> Response:
    """The answer of a push: ``processed`` metrics applied, ``errors`` naming the others."""
    status: Literal["success", "partial_success", "error"] = (
        "success" if not errors else "partial_success" if processed else "error"
    )
    body = PushResponse(processed=processed, status=status, errors=errors)
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json")


def error_response(status_code: int, message: str, bearer: bool = False) -> Response:
    """A push refused as a whole, for ``message``; ``bearer`` asks for the token."""
    response = respond(status_code, 0, [PushError(index=None, name=None, field=None, message=message)])
    if bearer:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response
