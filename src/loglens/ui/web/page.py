"""The web page: served live (its assets from the package, under ``/ui/``), or as one static file with
its assets and data inlined (``replay --output html``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import orjson

from loglens.query import Query
from loglens.ui.web.document import document, panels_of, summary_of

#: The page's own files and the vendored charting library, in the order the page loads them.
STYLES = ("vendor/uPlot.min.css", "dashboard.css")
SCRIPTS = ("vendor/uPlot.iife.min.js", "dashboard.js")
#: Where the live page's assets are served.
ASSETS_URL = "ui"


def asset(name: str) -> str:
    """The text of one of the page's files."""
    return (files("loglens.ui.web") / "assets" / name).read_text(encoding="utf-8")


@cache
def live_page() -> str:
    """The page that ``GET /`` serves: it loads its assets from ``ui/`` and its data from the API."""
    styles = "".join(f'<link rel="stylesheet" href="{ASSETS_URL}/{name}">\n' for name in STYLES)
    scripts = "".join(f'<script src="{ASSETS_URL}/{name}"></script>\n' for name in SCRIPTS)
    return _fill(styles, "", scripts)


def _inline(text: str) -> str:
    """A script or style sheet safe inside its element (none of the page's has such a closing tag)."""
    if re.search(r"(?i)</(script|style)", text):
        raise ValueError("an asset holds a closing tag of its element")
    return text


def _fill(styles: str, data: str, scripts: str) -> str:
    return (
        asset("index.html")
        .replace("<!--styles-->\n", styles)
        .replace("<!--data-->\n", data)
        .replace("<!--scripts-->\n", scripts)
    )


def report_document(
    query: Query, files_read: list[str], elapsed: float, rows: int, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The report's document: the live page's, with the summary and the panels of every source and of
    each one;
    ``names``: the name to show each source by, when not its label (an archived segment's key)."""
    doc = document(query, rows, mode="report", files=files_read, elapsed=elapsed)
    named = dict(names or {})
    doc["summary_by_source"] = {"": doc.pop("summary")} | {
        named.get(name, name): summary_of(query, name, rows) for name in doc["meta"]["sources"]
    }
    doc["panels_by_source"] = {"": doc["panels"]} | {
        named.get(name, name): panels_of(query, rows, name) for name in doc["meta"]["sources"]
    }
    doc["meta"]["sources"] = [named.get(name, name) for name in doc["meta"]["sources"]]
    doc["sources"] = {named.get(name, name): status for name, status in doc["sources"].items()}
    return doc


def report_page(
    query: Query, files_read: list[str], elapsed: float, rows: int, names: Mapping[str, str] | None = None
) -> str:
    """The page as one self-contained file: styles, scripts and the report's data inlined."""
    styles = "".join(f"<style>\n{_inline(asset(name))}\n</style>\n" for name in STYLES)
    scripts = "".join(f"<script>\n{_inline(asset(name))}\n</script>\n" for name in SCRIPTS)
    data = orjson.dumps(report_document(query, files_read, elapsed, rows, names)).decode()
    data = data.replace("</", "<\\/")  # a JSON string reads a backslash-slash as a slash
    holder = f'<script type="application/json" id="loglens-data">{data}</script>\n'
    return _fill(styles, holder, scripts)
