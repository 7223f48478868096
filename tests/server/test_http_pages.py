"""The pages of the HTTP app, over the real server: ``/api`` lists every endpoint, ``/api/docs`` needs
nothing from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import APIRouter

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, wait_for

LINE = '10.0.0.1 - - [09/May/2018:16:00:39 +0000] "GET /a HTTP/1.1" 200 5\n'


class _Page(HTMLParser):
    """The links and references of an HTML page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []  # every src and href
        self.links: list[str] = []  # the href of each <a>
        self.rows: list[list[str]] = []  # the cells of each table row
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.references += [value for name, value in attrs if name in ("src", "href") and value]
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(LINE * 5, encoding="utf-8")
    extra = APIRouter()

    @extra.get("/api/extra")
    def extra_route() -> dict[str, str]:
        """An extra route an embedder adds."""
        return {"extra": "yes"}

    with Agent(agent_settings(logs, tmp_path / "state"), routers=[extra]) as running:
        source = str(logs / "access.log")
        wait_for(lambda: lines_total(running.url).get(source) == 5, what="5 lines on /metrics")
        yield running


def test_the_index_lists_every_endpoint_and_each_link_answers(agent: Agent) -> None:
    response = httpx.get(f"{agent.url}/api")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = _parse(response.text)
    listed = {(row[0], row[1]) for row in page.rows[1:]}
    expected = {
        ("GET", path)
        for path in ("/metrics", "/api/status", "/api/insights", "/api/series", "/api/alerts", "/api/docs",
                     "/api/openapi.json", "/api/health", "/api/ready", "/api/anomalies", "/api/patterns",
                     "/api/extra", "/", "/api/dashboard", "/api/dashboard/events")
    } | {("POST", "/api/metrics"), ("POST", "/api/logs"), ("POST", "/log_collector")} | {
        ("POST", "/loki/api/v1/push"), ("POST", "/v1/logs"), ("POST", "/_bulk"), ("POST", "/{index}/_bulk"),
        ("GET", "/_cat/health"), ("HEAD", "/"),
    } | {
        (method, "/metrics/{grouping}") for method in ("PUT", "POST", "DELETE")  # the Pushgateway protocol
    }  # fmt: skip
    assert listed == expected
    assert all(row[2] for row in page.rows[1:]), page.rows  # each says what it serves
    assert ["GET", "/api/extra", "An extra route an embedder adds."] in page.rows
    assert set(page.links) == {path for method, path in expected if method == "GET"}
    for link in page.links:
        if link.endswith("/events"):  # an event stream: it answers, and does not end
            with httpx.stream("GET", urljoin(f"{agent.url}/", link)) as stream:
                assert stream.status_code == 200, link
            continue
        assert httpx.get(urljoin(f"{agent.url}/", link)).status_code == 200, link


def test_the_api_docs_are_served_whole_by_loglens(agent: Agent) -> None:
    docs = httpx.get(f"{agent.url}/api/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    own = urlsplit(agent.url).netloc
    assert not [url for url in re.findall(r"https?://[^\s'\"<>)]+", docs.text) if urlsplit(url).netloc != own]
    page = _parse(docs.text)
    spec = re.search(r"url: '([^']+)'", docs.text)
    assert spec, docs.text
    references = [*page.references, spec[1]]
    assert any(ref.endswith(".js") for ref in references) and any(ref.endswith(".css") for ref in references)
    for reference in references:
        url = urljoin(f"{agent.url}/api/docs", reference)
        assert urlsplit(url).netloc == own, reference
        answer = httpx.get(url)
        assert answer.status_code == 200, reference
        if reference.endswith(".css"):  # what the style sheet loads, data: URIs aside
            for inner in re.findall(r"url\(\s*['\"]?([^'\")]+)", answer.text):
                if not inner.startswith("data:"):
                    assert urlsplit(urljoin(url, inner)).netloc in ("", own), inner
                    assert httpx.get(urljoin(url, inner)).status_code == 200, inner
    assert httpx.get(urljoin(f"{agent.url}/api/docs", spec[1])).json()["info"]["title"] == "loglens"
    assert httpx.get(f"{agent.url}/redoc").status_code == 404  # no other docs page, with a CDN of its own
