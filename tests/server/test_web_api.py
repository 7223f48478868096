"""The web page over the real server: ``GET /`` and its assets (all from loglens, within 300 KB), its data
(``/api/dashboard``, agreeing with ``/api/insights``), bad parameters as 4xx, and the live event stream."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, wait_for
from ui.test_web_document import apply_patch

PAGE_WEIGHT_LIMIT = 300 * 1024


def line(path: str = "/a", status: int = 200, client: str = "10.0.0.1") -> str:
    stamp = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{client} - - [{stamp}] "GET {path} HTTP/1.1" {status} 5 "-" "curl/8.0"\n'


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[Agent, Path]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"
    log.write_text(line() * 3 + line("/b", 404) * 2, encoding="utf-8")
    with Agent(agent_settings(logs, tmp_path / "state")) as running:
        wait_for(lambda: lines_total(running.url).get(str(log)) == 5, what="5 lines on /metrics")
        yield running, log


def test_the_page_and_its_assets_come_from_loglens_within_300_kb(agent: tuple[Agent, Path]) -> None:
    url = agent[0].url
    page = httpx.get(f"{url}/", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = [
        r
        for r in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
        if not r.startswith("data:")
    ]
    assert refs
    weight = len(page.content)
    for ref in refs:
        asset = httpx.get(urljoin(f"{url}/", ref))
        assert asset.status_code == 200, ref
        assert urljoin(f"{url}/", ref).startswith(url), ref
        weight += len(asset.content)
    assert weight <= PAGE_WEIGHT_LIMIT, weight
    assert httpx.get(f"{url}/ui/vendor/LICENSE.uPlot").status_code == 200


def test_a_client_asking_for_json_gets_elasticsearchs_version_body(agent: tuple[Agent, Path]) -> None:
    answer = httpx.get(f"{agent[0].url}/", headers={"accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["x-elastic-product"] == "Elasticsearch"
    assert answer.json()["version"]["number"]


def test_bad_parameters_are_4xx_naming_the_problem(agent: tuple[Agent, Path]) -> None:
    url = agent[0].url
    missing = httpx.get(f"{url}/api/dashboard", params={"source": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    for params in ({"range": "100000"}, {"range": "0"}, {"rows": "0"}, {"rows": "x"}):
        answer = httpx.get(f"{url}/api/dashboard", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["detail"][0]["loc"][-1] in params, params
    assert httpx.get(f"{url}/api/dashboard/events", params={"source": "nope"}).status_code == 404


def test_the_page_shows_what_the_insights_show(agent: tuple[Agent, Path]) -> None:
    url, log = agent[0].url, agent[1]
    doc = httpx.get(f"{url}/api/dashboard", params={"range": 600}).json()
    insights = httpx.get(f"{url}/api/insights", params={"window": 600, "sections": 100}).json()
    summary = doc["summary"]
    assert (summary["hits"], summary["status"], summary["bytes"]) == (
        insights["hits"],
        insights["status"],
        insights["bytes"],
    )
    assert {s["section"]: s["hits"] for s in insights["sections"]} == {
        k: v[0] for k, v in summary["sections"].items()
    }
    everything = httpx.get(f"{url}/api/dashboard").json()
    assert everything["summary"]["lines"] == 5 and everything["summary"]["status"] == {"200": 3, "404": 2}
    assert everything["sources"][str(log)]["lines"] == 5
    assert everything["panels"]["not_found"] == {"/b": [2, 10, None]}
    assert sum(point[0] for point in everything["charts"]["5m"]["points"].values()) == 5
    assert httpx.get(f"{url}/api/dashboard", params={"source": str(log)}).json()["summary"]["lines"] == 5


def _events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    kind = ""
    for text in response.iter_lines():
        if text.startswith("event:"):
            kind = text.split(":", 1)[1].strip()
        elif text.startswith("data:"):
            yield kind, json.loads(text.split(":", 1)[1])


def test_the_event_stream_sends_a_document_then_deltas_every_second(agent: tuple[Agent, Path]) -> None:
    url, log = agent
    with httpx.stream("GET", f"{url.url}/api/dashboard/events", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
        kind, doc = next(events)
        assert kind == "snapshot" and doc["summary"]["lines"] == 5
        with log.open("a", encoding="utf-8") as out:
            out.write(line("/c", 500) * 4)
        started = time.monotonic()
        for kind, patch in events:
            assert kind == "delta"
            assert len(json.dumps(patch)) < len(json.dumps(doc))  # what changed, not the whole state
            doc = apply_patch(doc, patch)
            if doc["summary"]["lines"] == 9:
                break
            assert time.monotonic() - started < 10, "the new lines never reached the stream"
        assert doc["summary"]["status"] == {"200": 3, "404": 2, "500": 4}
        assert doc["panels"]["paths"]["/c"][0] == 4
        whole = httpx.get(f"{url.url}/api/dashboard").json()
        assert doc["summary"] == whole["summary"] and doc["panels"] == whole["panels"]


def test_the_goaccess_panels_answer_the_source_and_range_and_survive_a_restart(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    first, second = logs / "a.log", logs / "b.log"
    first.write_text(line("/a") * 3, encoding="utf-8")
    second.write_text(line("/b", 404, client="10.0.0.9") * 2, encoding="utf-8")
    settings = agent_settings(logs, tmp_path / "state")
    counted = {str(first): 3, str(second): 2}
    with Agent(settings) as running:
        wait_for(lambda: lines_total(running.url) == counted, what="5 lines on /metrics")
        url = running.url
        panels = httpx.get(f"{url}/api/dashboard").json()["panels"]
        assert panels["paths"] == {"/a": [3, 15, None], "/b": [2, 10, None]}
        doc_b = httpx.get(f"{url}/api/dashboard", params={"source": str(second)}).json()
        of_b = doc_b["panels"]
        assert of_b["paths"] == {"/b": [2, 10, None]} and of_b["clients"] == {"10.0.0.9": [2, 10, None]}
        chart_b = doc_b["charts"]["5m"]["points"].values()
        assert (sum(p[0] for p in chart_b), sum(p[1] for p in chart_b)) == (2, 2)  # its hits, its 404s
        ranged = httpx.get(f"{url}/api/dashboard", params={"source": str(first), "range": 60}).json()
        assert ranged["panels"]["paths"] == {"/a": [3, 15, None]}
        assert ranged["meta"]["vhosts"] is False
        # over a range, a source's summary is its own too (from its minutes, not the windows' sources)
        summary_a = ranged["summary"]
        assert (summary_a["source"], summary_a["lines"], summary_a["hits"]) == (str(first), 3, 3)
        assert summary_a["status"] == {"200": 3} and summary_a["methods"] == {"GET": 3}
        assert summary_a["sections"] == {"/a": [3, 0, 0.0]} and summary_a["clients"] == 1
        summary_b = httpx.get(f"{url}/api/dashboard", params={"source": str(second), "range": 60}).json()
        assert summary_b["summary"]["errors"] == {"4xx": 2, "5xx": 0}
        assert summary_b["summary"]["sections"] == {"/b": [2, 2, 1.0]}
        every = httpx.get(f"{url}/api/dashboard", params={"range": 60}).json()["summary"]
        assert every["source"] is None and every["hits"] == 5 and every["status"] == {"200": 3, "404": 2}
        # the checkpoint holds what the panels counted, with the positions they were counted to
        wait_for(lambda: running.runtime.store is not None and running.runtime.store.saves > 0, what="a save")
    with Agent(settings) as restarted:
        wait_for(lambda: lines_total(restarted.url) == counted, what="the totals restored")
        again = httpx.get(f"{restarted.url}/api/dashboard").json()["panels"]
        assert again == panels  # not read again: counted once, from the checkpoint
        with first.open("a", encoding="utf-8") as handle:
            handle.write(line("/a"))
        wait_for(
            lambda: httpx.get(f"{restarted.url}/api/dashboard").json()["panels"]["paths"]["/a"][0] == 4,
            what="the new line on the panels",
        )
