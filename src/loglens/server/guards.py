"""What every write endpoint checks before it takes a request: the bearer token and the body's size.

No ``from __future__ import annotations`` here: FastAPI reads the dependency's annotations at runtime.
"""

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


def bearer_check(token: str | None, description: str) -> Callable[..., Awaitable[bool]]:
    """A dependency telling whether the request carries ``Authorization: Bearer <token>``.

    With no token configured, every request is allowed (and the OpenAPI document declares no scheme).
    """
    if not token:

        async def open_() -> bool:
            return True

        return open_
    bearer = HTTPBearer(auto_error=False, description=description)
    expected = token.encode()

    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> bool:
        return credentials is not None and hmac.compare_digest(credentials.credentials.encode(), expected)

    return check


def bearer_allows(authorization: str | None, token: bytes | None) -> bool:
    """Whether an ``Authorization`` header value carries ``Bearer <token>`` (always, with no token)."""
    if token is None:
        return True
    scheme, _, credentials = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token)


async def read_body(chunks: AsyncIterator[bytes], declared: str, limit: int) -> bytes | None:
    """The body from its ``chunks``, or None as soon as the declared (``Content-Length``) or the
    received size passes ``limit``.

    Not the route's ``max_body_size``: Starlette's limiter answers in plain text, and clients expect the
    JSON error shape of every other answer.
    """
    if declared.isdigit() and int(declared) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
