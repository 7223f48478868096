"""Every ingest endpoint under pressure: 429 over the rate limit and 503 with the spool full, both with
``Retry-After`` and in the protocol's own error shape; and a success only once the lines are in the spool.

The spool is filled for real (``ingest.spool_max_bytes`` at its 1 MiB floor, and more than that sent
through ``/api/logs``): the spool's current file is kept until it rolls, so it stays over the limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from loglens.agent import Agent
from loglens.clock import FrozenClock
from server.agent_helpers import lines_total

MakeAgent = Callable[..., Agent]


def _otlp_json(lines: list[str]) -> bytes:
    records = [{"severityNumber": 9, "body": {"stringValue": line}} for line in lines]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]}
    return orjson.dumps({"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": records}]}]})


def _otlp_protobuf(lines: list[str]) -> bytes:
    request = ExportLogsServiceRequest()
    logs = request.resource_logs.add()
    logs.resource.attributes.add(key="service.name").value.string_value = "web"
    scope = logs.scope_logs.add()
    for line in lines:
        scope.log_records.add(severity_number=9).body.string_value = line
    return request.SerializeToString()


def _loki(lines: list[str]) -> bytes:
    return orjson.dumps({"streams": [{"stream": {"app": "web"}, "values": [["1", line] for line in lines]}]})


def _bulk(lines: list[str]) -> bytes:
    action = b'{"index":{"_index":"web"}}\n'
    return b"".join(action + orjson.dumps({"message": line}) + b"\n" for line in lines)


def _error_message(answer: httpx.Response) -> str:
    """The message of a refusal, from the protocol's error shape."""
    kind = answer.headers["content-type"]
    if kind == "application/x-protobuf":
        return str(status_pb2.Status.FromString(answer.content).message)
    doc = answer.json()
    if "message" in doc:  # OTLP JSON: google.rpc.Status
        return str(doc["message"])
    error = doc["error"]
    if isinstance(error, dict):  # Elasticsearch: {"error": {"type", "reason"}, "status"}
        assert doc["status"] == answer.status_code
        return str(error["reason"])
    return str(error)


@dataclass(frozen=True)
class Endpoint:
    path: str
    content_type: str
    body: Callable[[list[str]], bytes]
    ok: int


ENDPOINTS = {
    "api_logs": Endpoint("/api/logs?source=web", "text/plain", lambda lines: "\n".join(lines).encode(), 200),
    "loki": Endpoint("/loki/api/v1/push", "application/json", _loki, 204),
    "otlp_json": Endpoint("/v1/logs", "application/json", _otlp_json, 200),
    "otlp_protobuf": Endpoint("/v1/logs", "application/x-protobuf", _otlp_protobuf, 200),
    "bulk": Endpoint("/_bulk", "application/x-ndjson", _bulk, 200),
}


def _post(agent: Agent, endpoint: Endpoint, lines: list[str]) -> httpx.Response:
    url, headers = f"{agent.url}{endpoint.path}", {"content-type": endpoint.content_type}
    return httpx.post(url, content=endpoint.body(lines), headers=headers, timeout=30)


def _spooled(agent: Agent) -> bytes:
    folder: Path = agent.settings.state.dir / "spool"
    return b"".join(path.read_bytes() for path in sorted(folder.glob("*.spool")))


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_success_comes_only_once_the_lines_are_in_the_spool(make_agent: MakeAgent, name: str) -> None:
    """The answer's lines are in the spool's files when it arrives (written and fsynced before it:
    the fsync itself cannot be seen from outside)."""
    endpoint = ENDPOINTS[name]
    agent = make_agent()
    markers = [f"INFO marker {uuid.uuid4().hex}" for _ in range(3)]
    answer = _post(agent, endpoint, markers)
    assert answer.status_code == endpoint.ok, answer.text
    spooled = _spooled(agent)
    assert all(marker.encode() in spooled for marker in markers)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_over_the_rate_limit_the_answer_is_429_with_retry_after(make_agent: MakeAgent, name: str) -> None:
    endpoint = ENDPOINTS[name]
    clock = FrozenClock()
    agent = make_agent(clock=clock, rate_limit_lines_per_second=2)
    assert _post(agent, endpoint, ["INFO one", "INFO two"]).status_code == endpoint.ok
    marker = f"INFO refused {uuid.uuid4().hex}"
    answer = _post(agent, endpoint, [marker, "INFO four"])
    assert answer.status_code == 429, answer.text
    retry = int(answer.headers["retry-after"])
    assert retry >= 1
    assert "ingest.rate_limit_lines_per_second" in _error_message(answer)
    assert marker.encode() not in _spooled(agent)
    clock.advance(retry)  # as long as the answer said to wait
    assert _post(agent, endpoint, [marker, "INFO four"]).status_code == endpoint.ok


@pytest.mark.parametrize("name", ENDPOINTS)
def test_with_the_spool_full_the_answer_is_503_with_retry_after(make_agent: MakeAgent, name: str) -> None:
    endpoint = ENDPOINTS[name]
    agent = make_agent(spool_max_bytes=1 << 20)
    filler = httpx.post(f"{agent.url}/api/logs?source=filler", content=("x" * 1000 + "\n").encode() * 1100,
                        headers={"content-type": "text/plain"}, timeout=30)  # fmt: skip
    assert filler.status_code == 200, filler.text
    marker = f"INFO refused {uuid.uuid4().hex}"
    answer = _post(agent, endpoint, [marker])
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert "ingest.spool_max_bytes" in _error_message(answer)
    assert marker.encode() not in _spooled(agent)
    assert lines_total(agent.url).get("web", 0) == 0
