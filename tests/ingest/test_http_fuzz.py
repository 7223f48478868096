"""Fuzz every HTTP ingest endpoint at once, through the layers they share: any body, under any content type,
plain, gzip or deflate, whole or truncated, or claiming an encoding it does not have; no answer is a 5xx.

Each protocol's own decoder is fuzzed in its test file (test_loki, test_otlp, test_elastic, and
tests/push for the Pushgateway); this one adds the compression and content-type combinations.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglens.agent import Agent

MakeAgent = Callable[..., Agent]
PATHS = ["/api/logs", "/log_collector", "/loki/api/v1/push", "/v1/logs", "/_bulk", "/web/_bulk"]
TYPES = ["", "text/plain", "application/json", "application/x-ndjson", "application/x-protobuf",
         "application/json; charset=utf-8", "multipart/form-data", "\x7f"]  # fmt: skip
_SEEDS = st.sampled_from([
    b'{"streams":[{"stream":{"app":"web"},"values":[["1","x"]]}]}',
    b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}',
    b'{"index":{}}\n{"message":"x"}\n', b'{"message":"x"}', b'["a","b"]', b"INFO one\nINFO two\n",
])  # fmt: skip


def _encoded(body: bytes, encoding: str, cut: int | None) -> bytes:
    packed = {"gzip": gzip.compress, "deflate": zlib.compress}.get(encoding, bytes)(body)
    return packed if cut is None else packed[:cut]


def test_no_body_type_or_encoding_makes_a_server_error(make_agent: MakeAgent) -> None:
    agent = make_agent(max_sources=500)
    client = httpx.Client(base_url=agent.url, timeout=10)

    @given(
        path=st.sampled_from(PATHS),
        body=_SEEDS | st.binary(max_size=300),
        content_type=st.sampled_from(TYPES),
        encoding=st.sampled_from(["", "gzip", "deflate", "br", "gzip, deflate"]),
        packed=st.sampled_from(["", "gzip", "deflate"]),
        cut=st.none() | st.integers(0, 60),
    )
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(path: str, body: bytes, content_type: str, encoding: str, packed: str, cut: int | None) -> None:
        headers = {"content-type": content_type, "content-encoding": encoding}
        answer = client.post(path, content=_encoded(body, packed, cut), headers=headers)
        assert answer.status_code < 500, (answer.status_code, answer.text)

    fuzz()
    client.close()
    assert httpx.get(f"{agent.url}/api/health").status_code == 200
