"""``POST /loki/api/v1/push`` on ``loglens run``'s server: the real clients loki-logger-handler (JSON, gzip)
and winston-loki (protobuf, snappy), and protobuf requests compiled by protoc from the tests' own
definition of the wire format, for what the clients do not send (structured metadata, bad labels)."""

from __future__ import annotations

import gzip
import importlib
import logging
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import cramjam
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglens.agent import Agent
from server.agent_helpers import LOGLENS, agent_settings, lines_total, scrape, wait_for
from support import DATA, node_client

PUSH = "/loki/api/v1/push"
JSON = {"content-type": "application/json"}
MakeAgent = Callable[..., Agent]


@pytest.fixture(scope="module")
def logproto(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The tests' push.proto compiled by grpcio-tools' protoc, imported."""
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("logproto")
    include = Path(protoc.__file__).parent / "_proto"
    folder = DATA / "protocols"
    code = protoc.main(["protoc", f"-I{folder}", f"-I{include}", f"--python_out={out}",
                        str(folder / "loki_push.proto")])  # fmt: skip
    assert code == 0
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("loki_push_pb2")
    finally:
        sys.path.remove(str(out))


def _protobuf(logproto: ModuleType, streams: dict[str, list[str]]) -> bytes:
    request = logproto.PushRequest()
    for labels, lines in streams.items():
        stream = request.streams.add(labels=labels)
        for line in lines:
            entry = stream.entries.add(line=line)
            entry.timestamp.FromNanoseconds(time.time_ns())
            entry.structuredMetadata.add(name="trace_id", value="abc")
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def _levels(url: str, source: str) -> dict[str, float]:
    return {dict(labels)["level"]: value for (name, labels), value in scrape(url).items()
            if name == "loglens_log_messages_total" and dict(labels).get("source") == source}  # fmt: skip


def test_loki_logger_handler_sends_json_lines_that_are_counted_by_level(make_agent: MakeAgent) -> None:
    from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

    agent = make_agent()
    handler = LokiLoggerHandler(url=f"{agent.url}{PUSH}", labels={"service_name": "checkout"}, timeout=60)
    logger = logging.getLogger("test_loki.checkout")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        for i in range(20):
            logger.error("payment %d failed", i) if i % 4 == 0 else logger.info("payment %d done", i)
        handler.flush_event.set()  # the handler sends at once, not after its 60 s
        seen: list[dict[str, float]] = []
        wait_for(lambda: seen.append(lines_total(agent.url)) or seen[-1].get("checkout") == 20,
                 what="20 lines of source checkout", last=seen)  # fmt: skip
    finally:
        logger.removeHandler(handler)
    assert not handler.error
    assert _levels(agent.url, "checkout") == {"ERROR": 5, "INFO": 15}


def test_protobuf_with_snappy_reaches_each_stream_source(make_agent: MakeAgent, logproto: ModuleType) -> None:
    agent = make_agent()
    body = _protobuf(logproto, {
        '{app="web", env="prod"}': [f"ERROR 2026-12-01T07:56:{i:02d}Z web failure {i}" for i in range(7)],
        '{job="varlogs", filename="/var/log/x.log"}': ["INFO 2026-12-01T07:56:43Z batch done"] * 3,
        '{env="dev"}': ["WARN 2026-12-01T07:56:43Z no source label"],
    })  # fmt: skip
    answer = httpx.post(f"{agent.url}{PUSH}", content=body,
                        headers={"content-type": "application/x-protobuf"}, timeout=10)  # fmt: skip
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    wait_for(lambda: lines_total(agent.url) == {"web": 7, "varlogs": 3, "http": 1}, what="lines by source",
             last=[])  # fmt: skip
    assert _levels(agent.url, "web") == {"ERROR": 7}


def test_winston_loki_sends_protobuf_with_snappy_and_every_line_arrives(make_agent: MakeAgent) -> None:
    node, env = node_client("winston-loki")
    agent = make_agent()
    sent = subprocess.run([node, str(DATA / "protocols" / "winston_loki.js"), f"{agent.url}{PUSH}", "200"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    wait_for(lambda: lines_total(agent.url).get("shop") == 200, what="200 lines of source shop", last=[])
    assert _levels(agent.url, "shop") == {"ERROR": 40, "INFO": 160}


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_json_may_be_gzip_or_deflate_and_source_may_be_named(make_agent: MakeAgent, encoding: str) -> None:
    agent = make_agent()
    body = orjson.dumps({"streams": [{"stream": {"app": "web"}, "values": [
        [str(time.time_ns()), "ERROR 2026-12-01T07:56:43Z one"],
        [str(time.time_ns()), "INFO 2026-12-01T07:56:44Z two\nINFO 2026-12-01T07:56:45Z three",
         {"trace_id": "abc"}],
    ]}]})  # fmt: skip
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    headers = {"content-type": "application/json", "content-encoding": encoding}
    answer = httpx.post(f"{agent.url}{PUSH}?source=edge", content=packed, headers=headers, timeout=10)
    assert answer.status_code == 204, answer.text
    wait_for(lambda: lines_total(agent.url).get("edge") == 3, what="3 lines of source edge")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{", "application/json", 400, "not valid JSON"),
        (b'{"streams": {}}', "application/json", 400, "expected"),
        (b'{"streams": [{"stream": {"a": 1}, "values": []}]}', "application/json", 400, "strings"),
        (b'{"streams": [{"stream": {}, "values": [[1, "x"]]}]}', "application/json", 400, "values[0]"),
        (b"\x05abc", "application/x-protobuf", 400, "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\xff\xff")), "application/x-protobuf", 400, "PushRequest"),
        (b"x", "text/plain", 415, "content type"),
    ],
)
def test_malformed_pushes_are_refused_naming_the_problem(
    make_agent: MakeAgent, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    agent = make_agent()
    headers = {"content-type": content_type}
    answer = httpx.post(f"{agent.url}{PUSH}", content=body, headers=headers, timeout=10)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]


def test_bad_stream_labels_and_snappy_bombs_are_refused(make_agent: MakeAgent, logproto: ModuleType) -> None:
    agent = make_agent(max_body_bytes=64 * 1024)
    headers = {"content-type": "application/x-protobuf"}
    bad = _protobuf(logproto, {"app=web": ["x"]})
    answer = httpx.post(f"{agent.url}{PUSH}", content=bad, headers=headers)
    assert answer.status_code == 400
    assert "labels" in answer.json()["error"]
    bomb = _protobuf(logproto, {'{app="web"}': ["x" * 1000] * 100})  # 100 kB once uncompressed
    answer = httpx.post(f"{agent.url}{PUSH}", content=bomb, headers=headers)
    assert answer.status_code == 413
    assert "max_body_bytes" in answer.json()["error"]


def test_labels_repeated_on_many_short_lines_are_bounded_by_the_body_limit(make_agent: MakeAgent) -> None:
    agent = make_agent(max_body_bytes=64 * 1024)
    labels = {"app": "web", "team": "t" * 1000}

    def push(count: int) -> bytes:
        values = [["1", f"INFO {i}"] for i in range(count)]
        return orjson.dumps({"streams": [{"stream": labels, "values": values}]})

    assert httpx.post(f"{agent.url}{PUSH}", content=push(40), headers=JSON).status_code == 204
    many = push(2000)
    assert len(many) < 64 * 1024  # the body is within the limit; what its lines would keep is not
    answer = httpx.post(f"{agent.url}{PUSH}", content=many, headers=JSON)
    assert answer.status_code == 413, answer.text
    assert "labels and structured metadata" in answer.json()["error"]
    wait_for(lambda: lines_total(agent.url).get("web") == 40, what="the 40 lines of the small push alone")


def test_the_token_and_methods_are_checked(make_agent: MakeAgent) -> None:
    agent = make_agent(token="s3cret")
    body = {"streams": [{"stream": {"app": "web"}, "values": [["1", "x"]]}]}
    assert httpx.post(f"{agent.url}{PUSH}", json=body).status_code == 401
    headers = {"authorization": "Bearer s3cret"}
    assert httpx.post(f"{agent.url}{PUSH}", json=body, headers=headers).status_code == 204
    assert httpx.get(f"{agent.url}{PUSH}", headers=headers).status_code == 405


def test_stream_labels_and_structured_metadata_are_kept_in_the_archive(
    tmp_path: Path, logproto: ModuleType
) -> None:
    from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

    (tmp_path / "logs").mkdir()
    with Agent(agent_settings(tmp_path / "logs", tmp_path / "state")) as agent:
        handler = LokiLoggerHandler(
            url=f"{agent.url}{PUSH}", labels={"service_name": "checkout", "env": "prod"}, timeout=60,
            enable_structured_loki_metadata=True, loki_metadata={"region": "eu"}, loki_metadata_keys=["user"],
        )  # fmt: skip
        logger = logging.getLogger("test_loki.metadata")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        try:
            for i in range(4):
                logger.info("order %d placed", i, extra={"user": f"u{i}"})
            handler.flush_event.set()
            wait_for(lambda: lines_total(agent.url).get("checkout") == 4, what="4 lines of source checkout")
        finally:
            logger.removeHandler(handler)
        request = logproto.PushRequest()
        stream = request.streams.add(labels='{app="web", env="prod"}')
        for i in range(3):
            entry = stream.entries.add(line=f"ERROR 2026-12-01T07:56:4{i}Z web failure {i}")
            entry.timestamp.FromNanoseconds(time.time_ns())
            if i != 1:  # structured metadata is optional, entry by entry
                entry.structuredMetadata.add(name="trace_id", value=f"t{i}")
        body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
        protobuf = {"content-type": "application/x-protobuf"}
        answer = httpx.post(f"{agent.url}{PUSH}", content=body, headers=protobuf, timeout=10)
        assert answer.status_code == 204, answer.text
        wait_for(lambda: lines_total(agent.url).get("web") == 3, what="3 lines of source web")
    printed = _archive("cat", "--json", state=tmp_path / "state")
    records = [orjson.loads(line) for line in printed.splitlines()]
    by_source = {source: [r for r in records if r["source"] == source] for source in ("checkout", "web")}
    assert len(records) == 7
    for i, record in enumerate(by_source["checkout"]):
        assert orjson.loads(record["line"])["message"] == f"order {i} placed"
        assert record["labels"]["service_name"] == "checkout" and record["labels"]["env"] == "prod"
        assert record["metadata"] == {"region": "eu", "user": f"u{i}"}
    assert by_source["web"] == [
        {"source": "web", "line": f"ERROR 2026-12-01T07:56:4{i}Z web failure {i}",
         "labels": {"app": "web", "env": "prod"}, **({"metadata": {"trace_id": f"t{i}"}} if i != 1 else {})}
        for i in range(3)
    ]  # fmt: skip
    plain = _archive("cat", state=tmp_path / "state").splitlines()  # the lines alone, as before
    assert sorted(plain) == sorted(record["line"] for record in records)
    report = orjson.loads(_archive("replay", "--output", "json", state=tmp_path / "state"))
    assert report["lines"] == 7


def _archive(*args: str, state: Path) -> str:
    done = subprocess.run([str(LOGLENS), "archive", *args, "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


_SHAPES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def test_no_body_makes_a_server_error(make_agent: MakeAgent, logproto: ModuleType) -> None:
    agent = make_agent()
    valid = _protobuf(logproto, {'{app="web"}': ["INFO 2026-12-01T07:56:43Z ok"]})
    client = httpx.Client(base_url=agent.url, timeout=10)
    bodies = st.one_of(
        st.binary(max_size=300).map(lambda b: (b, "application/x-protobuf")),
        st.integers(0, len(valid)).map(lambda n: (valid[:n], "application/x-protobuf")),  # truncated
        st.integers(0, len(valid) - 1).map(
            lambda n: (bytes(cramjam.snappy.compress_raw(bytes(cramjam.snappy.decompress_raw(valid))[:n])),
                       "application/x-protobuf")),  # truncated protobuf, well-formed snappy
        _SHAPES.map(lambda v: (orjson.dumps({"streams": [{"stream": {}, "values": v}]}), "application/json")),
        _SHAPES.map(lambda v: (orjson.dumps(v), "application/json")),
    )  # fmt: skip

    @given(case=bodies)
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: tuple[bytes, str]) -> None:
        answer = client.post(PUSH, content=case[0], headers={"content-type": case[1]})
        assert answer.status_code < 500, answer.text

    fuzz()
    client.close()
    assert httpx.get(f"{agent.url}/api/health").status_code == 200
