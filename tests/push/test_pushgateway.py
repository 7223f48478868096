"""The Pushgateway protocol, driven by prometheus_client's own push functions against a real server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.error import HTTPError

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    delete_from_gateway,
    push_to_gateway,
    pushadd_to_gateway,
)
from prometheus_client.exposition import default_handler

from loglens.push.grouping import GroupingError, grouping_key

if TYPE_CHECKING:
    from conftest import PushServer


def _registry(**gauges: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    for name, value in gauges.items():
        Gauge(name, f"{name} help", registry=registry).set(value)
    return registry


def test_push_to_gateway_exposes_the_gauge_with_source_and_job(server: PushServer) -> None:
    push_to_gateway(server.url, job="nightly_batch", registry=_registry(batch_rows_processed=1234))
    assert server.value("app_batch_rows_processed", source="nightly_batch", job="nightly_batch") == 1234
    assert "# HELP app_batch_rows_processed batch_rows_processed help\n" in server.exposition()


def test_counters_histograms_and_summaries_are_exposed_as_pushed(server: PushServer) -> None:
    registry = CollectorRegistry()
    Counter("jobs", "Jobs done", ["kind"], registry=registry).labels("a").inc(3)
    histogram = Histogram("latency_seconds", "Latency", buckets=(0.1, 1.0), registry=registry)
    for value in (0.05, 0.5, 2.0):
        histogram.observe(value)
    Summary("size_bytes", "Sizes", registry=registry).observe(512)
    for _ in range(2):  # a second push of the same totals must not double them
        push_to_gateway(server.url, job="etl", registry=registry, grouping_key={"instance": "host-1"})
    labels = {"source": "etl", "job": "etl", "instance": "host-1"}
    assert server.value("app_jobs_total", kind="a", **labels) == 3
    assert server.value("app_latency_seconds_bucket", le="0.1", **labels) == 1
    assert server.value("app_latency_seconds_bucket", le="1.0", **labels) == 2
    assert server.value("app_latency_seconds_bucket", le="+Inf", **labels) == 3
    assert server.value("app_latency_seconds_count", **labels) == 3
    assert server.value("app_latency_seconds_sum", **labels) == pytest.approx(2.55)
    assert server.value("app_size_bytes_sum", **labels) == 512
    assert "_created" not in server.exposition()  # prometheus_client's creation gauges are left out


def test_put_replaces_the_group_and_post_only_the_names_it_sends(server: PushServer) -> None:
    push_to_gateway(server.url, job="j", registry=_registry(first=1, second=2))
    pushadd_to_gateway(server.url, job="j", registry=_registry(second=20))
    assert server.value("app_first", source="j", job="j") == 1  # POST keeps what it does not name
    assert server.value("app_second", source="j", job="j") == 20
    push_to_gateway(server.url, job="j", registry=_registry(third=3))
    assert server.value("app_first", source="j", job="j") is None  # PUT replaces the whole group
    assert server.value("app_second", source="j", job="j") is None
    assert server.value("app_third", source="j", job="j") == 3


def test_a_lower_counter_total_is_exposed_as_pushed(server: PushServer) -> None:
    registry = CollectorRegistry()
    counter = Counter("runs", "Runs", registry=registry)
    counter.inc(10)
    push_to_gateway(server.url, job="j", registry=registry)
    fresh = CollectorRegistry()  # the job ran again, from zero
    Counter("runs", "Runs", registry=fresh).inc(4)
    push_to_gateway(server.url, job="j", registry=fresh)
    assert server.value("app_runs_total", source="j", job="j") == 4


def test_delete_removes_only_its_own_group(server: PushServer) -> None:
    push_to_gateway(server.url, job="j", registry=_registry(depth=1), grouping_key={"instance": "a"})
    push_to_gateway(server.url, job="j", registry=_registry(depth=2), grouping_key={"instance": "b"})
    delete_from_gateway(server.url, job="j", grouping_key={"instance": "a"})
    assert server.value("app_depth", source="j", job="j", instance="a") is None
    assert server.value("app_depth", source="j", job="j", instance="b") == 2
    delete_from_gateway(server.url, job="never-pushed")  # nothing to delete is no error


def test_grouping_values_with_slashes_spaces_and_empty_ones_travel_in_base64(server: PushServer) -> None:
    key = {"path": "/var/log/app", "team": "a b", "empty": ""}
    push_to_gateway(server.url, job="a/b job", registry=_registry(depth=5), grouping_key=key)
    assert server.value("app_depth", source="a/b job", job="a/b job", path="/var/log/app", team="a b") == 5
    delete_from_gateway(server.url, job="a/b job", grouping_key=key)
    assert server.value("app_depth", source="a/b job", job="a/b job", path="/var/log/app", team="a b") is None


def test_the_grouping_key_wins_over_a_pushed_label(server: PushServer) -> None:
    registry = CollectorRegistry()
    Gauge("depth", "Depth", ["instance"], registry=registry).labels("own").set(7)
    push_to_gateway(server.url, job="j", registry=registry, grouping_key={"instance": "group"})
    assert server.value("app_depth", source="j", job="j", instance="group") == 7


def test_pushed_series_expire_after_the_push_ttl(start_server: Callable[..., PushServer]) -> None:
    server = start_server(ttl_seconds=60)
    push_to_gateway(server.url, job="j", registry=_registry(depth=1))
    server.clock.advance(61)
    assert server.value("app_depth", source="j", job="j") is None
    push_to_gateway(server.url, job="j", registry=_registry(other=1))  # the group forgot what expired
    assert server.value("app_other", source="j", job="j") == 1


def test_the_push_limits_apply(start_server: Callable[..., PushServer]) -> None:
    server = start_server(max_series_per_metric=2)
    registry = CollectorRegistry()
    gauge = Gauge("depth", "Depth", ["queue"], registry=registry)
    for queue in "abc":
        gauge.labels(queue).set(1)
    with pytest.raises(HTTPError) as refused:
        push_to_gateway(server.url, job="j", registry=registry)
    answer = json.loads(refused.value.read())
    assert answer["status"] == "partial_success"
    assert "max_series_per_metric" in answer["errors"][0]["message"]
    assert server.value("app_depth", source="j", job="j", queue="a") == 1


def test_a_token_is_required_when_set(start_server: Callable[..., PushServer]) -> None:
    server = start_server(token="s3cret")
    with pytest.raises(HTTPError, match="401"):
        push_to_gateway(server.url, job="j", registry=_registry(depth=1))

    def bearer(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        return default_handler(url, method, timeout, [*headers, ("Authorization", "Bearer s3cret")], data)

    push_to_gateway(server.url, job="j", registry=_registry(depth=1), handler=bearer)
    assert server.value("app_depth", source="j", job="j") == 1


def test_gzip_bodies_are_read(server: PushServer) -> None:
    push_to_gateway(server.url, job="j", registry=_registry(depth=9), compression="gzip")
    assert server.value("app_depth", source="j", job="j") == 9


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/metrics/job/", "job name must not be empty"),
        ("/metrics/job/j/instance", "has no value"),
        ("/metrics/job/j/instance/", "empty"),
        ("/metrics/job/j/__x/1", "not a label name"),
        ("/metrics/job/j/a/1/a/2", "twice"),
        ("/metrics/job/j/a@base64/!!", "base64"),
        ("/metrics/job/j/a/%ff", "UTF-8"),
    ],
)
def test_bad_grouping_keys_are_refused_with_a_reason(server: PushServer, path: str, fragment: str) -> None:
    response = server.client.put(path, content=b"x 1\n")
    assert response.status_code == 400
    assert fragment in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"x{ 1\n", "text/plain", 400, "text exposition"),
        (b"x 1 1700000000000\n", "text/plain", 400, "timestamp"),
        (b"\xff 1\n", "text/plain", 400, "UTF-8"),
        (b"x 1\n", "application/vnd.google.protobuf", 415, "content type"),
        (b'# TYPE le_x gauge\nle_x{le="1"} 1\n', "text/plain", 400, "reserved"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(
    server: PushServer, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = server.client.put("/metrics/job/j", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert fragment in response.json()["errors"][0]["message"]


def test_grouping_keys_decode_as_the_pushgateway_reads_them() -> None:
    assert grouping_key(b"/metrics/job/j/instance/h%3A9") == {"job": "j", "instance": "h:9"}
    assert grouping_key(b"/metrics/job@base64/YS9i/x@base64/=") == {"job": "a/b", "x": ""}
    assert grouping_key(b"/metrics/job/j/x@base64/YQ==") == {"job": "j", "x": "a"}
    with pytest.raises(GroupingError):
        grouping_key(b"/metrics/jobs/j")


@given(path=st.binary(max_size=80))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_path_is_a_key_or_a_grouping_error(path: bytes) -> None:
    try:
        key = grouping_key(b"/metrics/job/" + path)
    except GroupingError:
        return
    assert key["job"]


_TEXT = st.text(alphabet=st.sampled_from('ab_{}="\\ \n#TYPEHELPcounterhistogram01.+-Inf,le'), max_size=200)


def test_no_body_or_path_makes_a_server_error(server: PushServer) -> None:
    @given(
        body=st.one_of(_TEXT.map(str.encode), st.binary(max_size=200)),
        method=st.sampled_from(["PUT", "POST", "DELETE"]),
        path=st.sampled_from(["/metrics/job/j", "/metrics/job/j/a/b", "/metrics/job/j/le/1"]),
        encoding=st.sampled_from(["", "gzip", "br"]),
    )
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(body: bytes, method: str, path: str, encoding: str) -> None:
        headers = {"content-encoding": encoding} if encoding else {}
        response = server.client.request(method, path, content=body, headers=headers)
        assert response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/json"

    fuzz()
    assert server.client.get("/metrics").status_code == 200
