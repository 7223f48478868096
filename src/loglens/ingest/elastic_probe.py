"""The answer to Elasticsearch clients' probe of ``GET /``, told apart from a browser's request.

``GET /`` is shared with the web page by content negotiation: a request that accepts ``text/html``
(a browser) gets the page, any other (Beats, Logstash, Fluent Bit, Vector, the Elasticsearch clients,
which ask for JSON or name no type) the version body, with the ``X-Elastic-Product`` header they check.
The route of ``GET /`` calls :func:`elastic_probe` first.
"""

from __future__ import annotations

import socket

from starlette.responses import JSONResponse

from loglens import __version__

#: The Elasticsearch version loglens answers as: the clients of 8.x and 7.x send to it.
VERSION = "8.11.0"


def wants_version(accept: str | None) -> bool:
    """Whether a ``GET /`` with this ``Accept`` header is a client's probe rather than a browser's visit."""
    return "text/html" not in (accept or "").lower()


def elastic_probe(accept: str | None) -> JSONResponse | None:
    """The version body for a probe of ``GET /``; None when the page is wanted."""
    if not wants_version(accept):
        return None
    body = {
        "name": socket.gethostname(),
        "cluster_name": "loglens",
        "cluster_uuid": "loglens",
        "version": {
            "number": VERSION, "build_flavor": "default", "build_type": "loglens",
            "minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0",
            "loglens": __version__,
        },
        "tagline": "You Know, for Search",
    }  # fmt: skip
    return JSONResponse(body, headers={"X-Elastic-Product": "Elasticsearch"})
