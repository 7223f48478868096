"""Elasticsearch's bulk API on ``loglens run``'s server: rsyslog's ``omelasticsearch`` and syslog-ng's
``elasticsearch-http()`` forwarding a file (every line arrives), the answers' shape, and malformed
bodies; and the probe answer that ``GET /`` gives clients."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglens.agent import Agent
from server.agent_helpers import lines_total, scrape, wait_for
from support import require_tool, rsyslogd

MakeAgent = Callable[..., Agent]
NDJSON = {"content-type": "application/x-ndjson"}
LINE = '192.0.2.{a} - - [01/Dec/2026:07:{m:02d}:{s:02d} +0000] "GET /shop/{n} HTTP/1.1" {status} {n}'


def _access_lines(count: int) -> list[str]:
    return [LINE.format(a=n % 200, m=n // 60 % 60, s=n % 60, n=n, status=(200, 404, 500)[n % 3])
            for n in range(count)]  # fmt: skip


def _by_status(url: str, source: str) -> dict[str, float]:
    return {dict(labels)["status"]: value for (name, labels), value in scrape(url).items()
            if name == "loglens_http_requests_total" and ("source", source) in labels}  # fmt: skip


def _shipped(agent: Agent, process: subprocess.Popen[bytes], out: Path, source: str, count: int) -> None:
    def arrived() -> bool:
        if process.poll() is not None:
            output = out.read_text(errors="replace")
            raise AssertionError(f"the shipper exited with {process.returncode}: {output}")
        return lines_total(agent.url).get(source) == count

    try:
        wait_for(arrived, timeout=60, what=f"{count} lines of {source}")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.integration
def test_rsyslog_omelasticsearch_forwards_every_line_of_a_file(make_agent: MakeAgent, tmp_path: Path) -> None:
    command = rsyslogd()
    agent = make_agent()
    host, port = agent.address
    log, work = tmp_path / "app.log", tmp_path / "rsyslog"
    work.mkdir()
    lines = _access_lines(900)
    log.write_text("\n".join(lines) + "\n")
    config = tmp_path / "rsyslog.conf"
    config.write_text(f"""
global(workDirectory="{work}")
module(load="imfile")
module(load="omelasticsearch")
input(type="imfile" File="{log}" Tag="web")
action(type="omelasticsearch" server="{host}" serverport="{port}" searchIndex="web-access"
       bulkmode="on" maxbytes="64k" esVersion.major="8")
""")
    out = tmp_path / "rsyslog.out"
    with out.open("wb") as sink:
        process = subprocess.Popen([*command, "-n", "-f", str(config), "-i", str(tmp_path / "pid")],
                                   stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
    _shipped(agent, process, out, "web-access", len(lines))
    assert _by_status(agent.url, "web-access") == {"200": 300, "404": 300, "500": 300}


@pytest.mark.integration
def test_syslog_ng_elasticsearch_http_forwards_every_line_of_a_file(
    make_agent: MakeAgent, tmp_path: Path
) -> None:
    syslog_ng = require_tool("syslog-ng", "syslog-ng-core syslog-ng-mod-http syslog-ng-scl")
    agent = make_agent()
    log, run = tmp_path / "app.log", tmp_path / "run"
    run.mkdir()
    lines = _access_lines(1200)
    log.write_text("\n".join(lines) + "\n")
    config = tmp_path / "syslog-ng.conf"
    config.write_text(f"""@version: 3.38
@include "scl.conf"
options {{ stats_freq(0); }};
source s_app {{ file("{log}" follow-freq(0.1) flags(no-parse)); }};
destination d_loglens {{
  elasticsearch-http(url("{agent.url}/_bulk") index("shop") type("") batch-lines(100) batch-timeout(200));
}};
log {{ source(s_app); destination(d_loglens); }};
""")
    out = tmp_path / "syslog-ng.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [syslog_ng, "-F", "-f", str(config), f"--persist-file={run / 'persist'}",
             f"--pidfile={run / 'pid'}", f"--control={run / 'ctl'}", "--no-caps"],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    _shipped(agent, process, out, "shop", len(lines))
    assert _by_status(agent.url, "shop") == {"200": 400, "404": 400, "500": 400}


def test_the_answer_has_an_item_per_action_and_the_product_header(make_agent: MakeAgent) -> None:
    agent = make_agent()
    body = b"\n".join([
        b'{"index": {"_index": "web"}}', orjson.dumps({"message": _access_lines(1)[0]}),
        b'{"create": {}}', b'{"log": "ERROR 2026-12-01T07:56:43Z from fluent bit"}',
        b'{"index": {"_index": "app"}}', b'{"@timestamp": "2026-12-01T07:56:43Z", "level": "warn"}',
        b'{"delete": {"_index": "web", "_id": "1"}}',
        b'{"update": {"_index": "web", "_id": "1"}}', b'{"doc": {}}',
        b'{"index": {}}', b"not json",
    ]) + b"\n"  # fmt: skip
    answer = httpx.post(f"{agent.url}/logs/_bulk", content=body, headers=NDJSON)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-elastic-product"] == "Elasticsearch"
    result = answer.json()
    assert result["errors"] is True
    statuses = [(action, item["_index"], item["status"]) for entry in result["items"]
                for action, item in entry.items()]  # fmt: skip
    assert statuses == [("index", "web", 201), ("create", "logs", 201), ("index", "app", 201),
                        ("delete", "web", 400), ("update", "web", 400), ("index", "logs", 400)]  # fmt: skip
    wait_for(lambda: lines_total(agent.url) == {"web": 1, "logs": 1, "app": 1}, what="3 lines by index")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json}\n", "application/x-ndjson", 400, "expected an action"),
        (b'{"merge": {}}\n{}\n', "application/x-ndjson", 400, "not one of"),
        (b'{"index": {}}\n', "application/x-ndjson", 400, "no document line"),
        (b'{"index": {}}\n{}\n', "text/csv", 415, "content type"),
    ],
)
def test_a_malformed_bulk_is_refused_in_elasticsearch_s_error_shape(
    make_agent: MakeAgent, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    agent = make_agent()
    answer = httpx.post(f"{agent.url}/_bulk", content=body, headers={"content-type": content_type})
    assert answer.status_code == status
    assert answer.json()["status"] == status
    assert fragment in answer.json()["error"]["reason"]
    assert answer.headers["x-elastic-product"] == "Elasticsearch"


def test_cat_health_and_the_get_probe_answer_as_elasticsearch(make_agent: MakeAgent) -> None:
    agent = make_agent()
    text = httpx.get(f"{agent.url}/_cat/health")
    assert text.status_code == 200 and " green " in text.text
    assert httpx.get(f"{agent.url}/_cat/health?format=json").json()[0]["status"] == "green"
    for accept in ("application/json", "application/vnd.elasticsearch+json; compatible-with=8"):
        probe = httpx.get(f"{agent.url}/", headers={"Accept": accept})
        assert probe.status_code == 200 and probe.headers["x-elastic-product"] == "Elasticsearch"
        assert probe.json()["version"]["number"].startswith("8.")
    head = httpx.head(f"{agent.url}/", headers={"Accept": "application/json"})
    assert head.status_code == 200 and head.headers["x-elastic-product"] == "Elasticsearch"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*"):
        page = httpx.get(f"{agent.url}/", headers={"Accept": accept})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_no_body_makes_a_server_error(make_agent: MakeAgent) -> None:
    agent = make_agent()
    client = httpx.Client(base_url=agent.url, timeout=10)
    rows = st.one_of(
        st.sampled_from([b'{"index": {}}', b'{"create": {"_index": "x"}}', b'{"delete": {}}',
                         b'{"update": {}}', b'{"index": {"_index": 3}}', b'{"message": "m"}', b"{}", b"[]",
                         b"", b"\xff"]),
        st.binary(max_size=40),
    )  # fmt: skip

    @given(body=st.lists(rows, max_size=8).map(b"\n".join), path=st.sampled_from(["/_bulk", "/idx/_bulk"]))
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(body: bytes, path: str) -> None:
        answer = client.post(path, content=body, headers=NDJSON)
        assert answer.status_code < 500, answer.text

    fuzz()
    client.close()
    assert httpx.get(f"{agent.url}/api/health").status_code == 200
