"""``POST /v1/logs`` on ``loglens run``'s server: the OpenTelemetry Python SDK's OTLP/HTTP exporter
(protobuf), JSON requests as the spec's examples write them, and the spec's answers."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from google.rpc import status_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from loglens.agent import Agent
from loglens.clock import FrozenClock
from server.agent_helpers import LOGLENS, agent_settings, lines_total, scrape, wait_for

LOGS = "/v1/logs"
MakeAgent = Callable[..., Agent]


def _levels(url: str, source: str) -> dict[str, float]:
    return {dict(labels)["level"]: value for (name, labels), value in scrape(url).items()
            if name == "loglens_log_messages_total" and dict(labels).get("source") == source}  # fmt: skip


def _answers(url: str, code: str) -> float:
    return sum(value for (name, labels), value in scrape(url).items()
               if name == "loglens_ingest_requests_total" and ("endpoint", "otlp") in labels
               and ("code", code) in labels)  # fmt: skip


@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated")
@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_opentelemetry_sdk_exports_logs_counted_by_level(
    make_agent: MakeAgent, compression: Compression
) -> None:
    agent = make_agent()
    provider = LoggerProvider(resource=Resource.create({"service.name": "api"}))
    exporter = OTLPLogExporter(endpoint=f"{agent.url}{LOGS}", compression=compression, timeout=10)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger(f"test_otlp.{compression.value}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    logger.addHandler(handler)
    try:
        for i in range(12):
            (logger.error if i % 3 == 0 else logger.warning if i % 3 == 1 else logger.debug)("event %d", i)
        assert provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    wait_for(lambda: lines_total(agent.url).get("api") == 12, what="12 lines of source api")
    assert _levels(agent.url, "api") == {"ERROR": 4, "WARNING": 4, "DEBUG": 4}
    assert _answers(agent.url, "200") == 12  # one export per record, each answered 200


def _json_request(records: list[dict[str, Any]], service: str | None = "checkout") -> dict[str, Any]:
    """A request shaped as the spec's JSON example (lowerCamelCase, integers as strings, hex ids)."""
    attributes = [{"key": "service.name", "value": {"stringValue": service}}] if service else []
    return {"resourceLogs": [{"resource": {"attributes": attributes},
                              "scopeLogs": [{"scope": {"name": "my.library", "version": "1.0.0"},
                                             "logRecords": records}]}]}  # fmt: skip


def _record(body: Any, number: int = 9, text: str = "Information", **more: Any) -> dict[str, Any]:
    return {"timeUnixNano": str(time.time_ns()), "observedTimeUnixNano": str(time.time_ns()),
            "severityNumber": number, "severityText": text, "body": body,
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "attributes": [{"key": "string.attribute", "value": {"stringValue": "some string"}},
                           {"key": "int.attribute", "value": {"intValue": "10"}}], **more}  # fmt: skip


def test_json_requests_answer_json_and_keep_the_record_in_the_archive(tmp_path: Path) -> None:
    records = [
        _record({"stringValue": "Example log record"}),
        _record({"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "3"}}]}}, 17, "Error"),
        _record({"stringValue": "no number"}, 0, "warn"),
    ]
    (tmp_path / "logs").mkdir()
    with Agent(agent_settings(tmp_path / "logs", tmp_path / "state")) as agent:
        answer = httpx.post(f"{agent.url}{LOGS}", json=_json_request(records), timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {}
        wait_for(lambda: lines_total(agent.url).get("checkout") == 3, what="3 lines of source checkout")
        assert _levels(agent.url, "checkout") == {"INFO": 1, "ERROR": 1, "WARNING": 1}
    archived = _archived(tmp_path / "state")  # the stop closed the segments
    first = orjson.loads(archived[0])
    assert first["message"] == "Example log record"
    assert first["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert first["span_id"] == "eee19b7ec3c1b174"
    assert first["attributes"] == {"string.attribute": "some string", "int.attribute": 10}
    assert orjson.loads(orjson.loads(archived[1])["message"]) == {"k": 3}


def _archived(state: Path) -> list[str]:
    """Every archived line, as ``loglens archive cat`` prints them."""
    done = subprocess.run([str(LOGLENS), "archive", "cat", "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_protobuf_answers_protobuf_with_partial_success(make_agent: MakeAgent) -> None:
    agent = make_agent()
    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "batch"
    scope = resource.scope_logs.add()
    scope.log_records.add(severity_number=13).body.string_value = "fits"
    scope.log_records.add(severity_number=13).body.string_value = "x" * 70_000  # over parse.max_line_bytes
    answer = httpx.post(f"{agent.url}{LOGS}", content=request.SerializeToString(),
                        headers={"content-type": "application/x-protobuf"}, timeout=10)  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    response = ExportLogsServiceResponse.FromString(answer.content)
    assert response.partial_success.rejected_log_records == 1
    assert "max_line_bytes" in response.partial_success.error_message
    wait_for(lambda: lines_total(agent.url).get("batch") == 1, what="1 line of source batch")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xff\xff", "application/x-protobuf", 400),
        (b"{", "application/json", 400),
        (b'{"resourceLogs": 3}', "application/json", 400),
        (orjson.dumps(_json_request([_record({"stringValue": "x"}, traceId="zz")])), "application/json", 400),
        (b"x", "text/plain", 415),
    ],
)
def test_bad_data_is_a_400_status_in_the_request_encoding(
    make_agent: MakeAgent, body: bytes, content_type: str, status: int
) -> None:
    agent = make_agent()
    answer = httpx.post(f"{agent.url}{LOGS}", content=body, headers={"content-type": content_type})
    assert answer.status_code == status, answer.text
    if content_type == "application/json":
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["message"]
    else:
        assert answer.headers["content-type"] == "application/x-protobuf"
        assert status_pb2.Status.FromString(answer.content).message


def test_under_pressure_the_answer_is_429_with_retry_after(make_agent: MakeAgent) -> None:
    agent = make_agent(clock=FrozenClock(), rate_limit_lines_per_second=2)
    body = orjson.dumps(_json_request([_record({"stringValue": f"r{i}"}) for i in range(2)]))
    headers = {"content-type": "application/json"}
    assert httpx.post(f"{agent.url}{LOGS}", content=body, headers=headers).status_code == 200
    answer = httpx.post(f"{agent.url}{LOGS}", content=body, headers=headers)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) >= 1
    assert "rate_limit" in answer.json()["message"]


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["resourceLogs", "scopeLogs", "logRecords", "body", "stringValue", "kvlistValue",
                         "values", "key", "value", "traceId", "severityNumber", "timeUnixNano", "x"]),
        inner, max_size=4),
    max_leaves=25,
)  # fmt: skip


def test_no_body_makes_a_server_error(make_agent: MakeAgent) -> None:
    agent = make_agent()
    valid = ExportLogsServiceRequest()
    record = valid.resource_logs.add().scope_logs.add().log_records.add(severity_number=9)
    record.body.kvlist_value.values.add(key="a").value.string_value = "b"
    wire = valid.SerializeToString()
    client = httpx.Client(base_url=agent.url, timeout=10)
    cases = st.one_of(
        st.binary(max_size=200).map(lambda b: (b, "application/x-protobuf")),
        st.integers(0, len(wire)).map(lambda n: (wire[:n], "application/x-protobuf")),  # truncated
        _ANY.map(lambda v: (orjson.dumps(v), "application/json")),
        _ANY.map(lambda v: (orjson.dumps(_json_request([{"body": v}])), "application/json")),
    )

    @given(case=cases)
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: tuple[bytes, str]) -> None:
        answer = client.post(LOGS, content=case[0], headers={"content-type": case[1]})
        assert answer.status_code < 500, answer.text
        assert answer.headers["content-type"] == case[1]

    fuzz()
    client.close()
    assert httpx.get(f"{agent.url}/api/health").status_code == 200
