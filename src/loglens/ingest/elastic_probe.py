"""The answer to Elasticsearch clients' probe of ``GET /``, told apart from a browser's request.

``GET /`` is shared with the web page by content negotiation (``server/web_routes.py``): a request
that accepts ``text/html`` or anything (a browser, curl) gets the page; one that asks for JSON only
(Beats, Logstash, Fluent Bit, Vector, the Elasticsearch clients) gets this version body, with the
``X-Elastic-Product`` header they check.
"""

from __future__ import annotations

import socket

from starlette.responses import JSONResponse

from loglens import __version__

#: The Elasticsearch version loglens answers as: the clients of 8.x and 7.x send to it.
VERSION = "8.11.0"


def elastic_probe() -> JSONResponse:
    """The version body Elasticsearch answers ``GET /`` with."""
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
