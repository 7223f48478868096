"""``GET /api``: a small HTML page naming every endpoint of the app, generated from its routes."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from html import escape

from fastapi import FastAPI
from starlette.routing import Route


def endpoints(app: FastAPI, notes: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(method, path, what it serves)`` of every endpoint of ``app``, by path.

    The OpenAPI document's operations (routes included from routers are listed there), then the app's
    own routes outside it (``/metrics``, the docs, the web page) but ``/api`` and the docs' OAuth
    redirect. What an endpoint serves is the first paragraph of its docstring, else its summary;
    ``notes`` says it for the framework's routes, which have neither.
    """
    found: dict[tuple[str, str], str] = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            found[method.upper(), path] = _paragraph(operation.get("description")) or operation["summary"]
    hidden = {"/api", app.swagger_ui_oauth2_redirect_url}
    for route in app.routes:
        if isinstance(route, Route) and route.path not in hidden:
            what = notes.get(route.path) or _paragraph(inspect.getdoc(route.endpoint))
            for method in (route.methods or set()) - {"HEAD"}:
                found.setdefault((method, route.path), what)
    return sorted(
        ((method, path, what) for (method, path), what in found.items()), key=lambda row: (row[1], row[0])
    )


def _paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line, without reST's literal quotes."""
    return (doc or "").split("\n\n")[0].replace("\n", " ").replace("``", "")


def index_page(app: FastAPI, notes: Mapping[str, str], root_path: str = "") -> str:
    """The page: a table of :func:`endpoints`, each ``GET`` without path parameters a link."""
    rows = []
    for method, path, what in endpoints(app, notes):
        shown = escape(path)
        if method == "GET" and "{" not in path:
            shown = f'<a href="{escape(root_path + path)}">{shown}</a>'
        rows.append(f"<tr><td>{method}</td><td>{shown}</td><td>{escape(what)}</td></tr>")
    title = escape(f"{app.title} {app.version}")
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title>\n'
        "<style>th, td { text-align: left; padding-right: 1em; }</style></head>\n"
        f"<body>\n<h1>{title}</h1>\n<table>\n<tr><th>method</th><th>endpoint</th><th>what</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n</body>\n</html>\n"
    )
