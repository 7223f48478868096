"""Every way a push can be wrong, over real HTTP: 400 naming each problem, 401, 413, 415, partial success."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson
import pytest

if TYPE_CHECKING:
    from conftest import PushServer

Metric = Callable[..., dict[str, Any]]

BAD_METRICS: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("empty name", {"name": ""}, "name", "pattern"),
    ("name starting with a digit", {"name": "1st_requests"}, "name", "pattern"),
    ("name with a dash", {"name": "request-count"}, "name", "pattern"),
    ("empty help", {"help": ""}, "help", "at least 1 character"),
    ("blank help", {"help": "   "}, "help", "must not be empty"),
    ("invalid label name", {"labels": {"bad-label": "x"}}, "labels.bad-label", "pattern"),
    ("reserved label le", {"labels": {"le": "1"}}, "labels.le", "reserved"),
    ("reserved label quantile", {"labels": {"quantile": "0.5"}}, "labels.quantile", "reserved"),
    ("reserved label __name__", {"labels": {"__name__": "x"}}, "labels.__name__", "reserved"),
    ("reserved label source", {"labels": {"source": "other"}}, "labels.source", "reserved"),
    ("label value not a string", {"labels": {"service": 3}}, "labels.service", "valid string"),
    ("negative counter increment", {"value": {"value": -1.0}}, "value.value", "must not be negative"),
    ("negative counter total", {"value": {"value": -5}, "mode": "cumulative"}, "value.value", "negative"),
    ("value given as a string", {"value": {"value": "42"}}, "value.value", "valid number"),
    ("value not an object", {"value": 42}, "value", "value must be an object"),
    ("unknown field", {"unit": "seconds"}, "unit", "Extra inputs"),
    ("unknown metric type", {"metric_type": "meter"}, "metric_type", "'counter'"),
    ("unknown mode", {"mode": "delta"}, "mode", "'increment'"),
    ("counter with buckets", {"value": {"buckets": {"1": 1}, "sum": 1, "count": 1}}, "value", "a counter"),
    ("gauge with a mode", {"metric_type": "gauge", "mode": "increment"}, "mode", "gauges"),
    ("negative timestamp", {"value": {"value": 1, "timestamp": -1}}, "value.timestamp", "greater than"),
    (
        "histogram buckets going down",
        {"metric_type": "histogram", "value": {"buckets": {"1": 5, "2": 3}, "sum": 4, "count": 5}},
        "value",
        "must not decrease",
    ),
    (
        "histogram +Inf bucket other than count",
        {"metric_type": "histogram", "value": {"buckets": {"1": 1, "+Inf": 2}, "sum": 4, "count": 3}},
        "value",
        "+Inf",
    ),
    (
        "histogram bound not a number",
        {"metric_type": "histogram", "value": {"buckets": {"one": 1}, "sum": 1, "count": 1}},
        "value.buckets.one",
        "pattern",
    ),
    (
        "summary quantile above 1",
        {"metric_type": "summary", "value": {"quantiles": {"1.5": 3}, "sum": 4, "count": 5}},
        "value",
        "between 0 and 1",
    ),
    (
        "observation as a running total",
        {"metric_type": "summary", "mode": "cumulative"},
        "mode",
        "running total",
    ),
    ("buckets on a counter", {"buckets": [1, 2]}, "buckets", "observed histograms"),
]


def _bad(metric: Metric, **changes: Any) -> dict[str, Any]:
    body = metric("bad_metric", 1.0)
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field", "fragment"), [c[1:] for c in BAD_METRICS], ids=[c[0] for c in BAD_METRICS]
)
def test_a_bad_metric_alone_is_400_naming_it(
    server: PushServer, metric: Metric, changes: dict[str, Any], field: str, fragment: str
) -> None:
    response = server.push([metric("fine", 1.0), _bad(metric, **changes)])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial_success"
    assert body["processed"] == 1
    [error] = body["errors"]
    assert error["index"] == 1
    assert error["name"] == changes.get("name", "bad_metric")
    assert error["field"] == field
    assert fragment in error["message"]
    assert server.value("app_fine_total", source="my_app") == 1.0

    alone = server.push([_bad(metric, **changes)])
    assert alone.status_code == 400
    assert alone.json()["status"] == "error"
    assert alone.json()["processed"] == 0
    assert [e["field"] for e in alone.json()["errors"]] == [field]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_non_finite_values_are_named(server: PushServer, literal: str) -> None:
    good = orjson.dumps({"name": "fine", "metric_type": "gauge", "help": "h", "value": {"value": 1}}).decode()
    bad = f'{{"name": "bad_gauge", "metric_type": "gauge", "help": "h", "value": {{"value": {literal}}}}}'
    body = f'{{"source": "my_app", "metrics": [{good}, {bad}]}}'
    response = server.client.post("/api/metrics", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert (error["index"], error["name"], error["field"]) == (1, "bad_gauge", "value.value")
    assert "finite" in error["message"]


def test_lone_surrogates_in_echoed_names_do_not_break_the_answer(server: PushServer) -> None:
    bad_name = r'{"name": "x\ud9be", "metric_type": "gauge", "help": "h", "value": {"value": 1}}'
    bad_label = (
        r'{"name": "y", "metric_type": "gauge", "help": "h", "labels": {"\udc25": ""}, "value": {"value": 1}}'
    )
    body = f'{{"source": "my_app", "metrics": [{bad_name}, {bad_label}]}}'
    response = server.client.post("/api/metrics", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    first, second = response.json()["errors"]
    assert (first["index"], first["name"], first["field"]) == (0, "x?", "name")
    assert (second["index"], second["name"]) == (1, "y")
    assert second["field"].startswith("labels.")


def test_a_metric_that_is_not_an_object_is_named_by_index(server: PushServer, metric: Metric) -> None:
    response = server.push([metric("fine", 1), "request_count=3"])
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert (error["index"], error["name"]) == (1, None)


BAD_BATCHES: list[tuple[str, Any, str | None]] = [
    ("empty source", {"source": "", "metrics": "GOOD"}, "source"),
    ("blank source", {"source": "  ", "metrics": "GOOD"}, "source"),
    ("missing source", {"metrics": "GOOD"}, "source"),
    ("empty batch", {"source": "my_app", "metrics": []}, "metrics"),
    ("missing metrics", {"source": "my_app"}, "metrics"),
    ("metrics not a list", {"source": "my_app", "metrics": {"name": "x"}}, "metrics"),
    ("unknown batch field", {"source": "my_app", "metrics": "GOOD", "host": "a"}, "host"),
    ("unknown batch mode", {"source": "my_app", "metrics": "GOOD", "mode": "delta"}, "mode"),
    ("body not an object", ["GOOD"], None),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in BAD_BATCHES], ids=[c[0] for c in BAD_BATCHES])
def test_a_bad_batch_is_400_and_applies_nothing(
    server: PushServer, metric: Metric, body: Any, field: str
) -> None:
    good = [metric("fine", 1.0)]
    if isinstance(body, dict) and body.get("metrics") == "GOOD":
        body = {**body, "metrics": good}
    elif body == ["GOOD"]:
        body = good
    response = server.client.post("/api/metrics", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "error"
    assert answer["processed"] == 0
    assert field in [e["field"] for e in answer["errors"]]
    assert all(e["index"] is None for e in answer["errors"] if e["field"] == field)
    assert server.value("app_fine_total", source="my_app") is None


def test_a_bad_batch_still_names_each_bad_metric(server: PushServer, metric: Metric) -> None:
    response = server.push([metric("fine", 1.0), metric("bad-name", 1.0)], source="")
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(None, "source"), (1, "name")]


@pytest.mark.parametrize("content", [b"", b"{", b'{"source": "a", "metrics": [}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_400(server: PushServer, content: bytes) -> None:
    response = server.client.post(
        "/api/metrics", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "not valid JSON" in error["message"]


def test_the_same_series_twice_in_a_batch_keeps_the_first(server: PushServer, metric: Metric) -> None:
    first = metric("request_count", 2.0, labels={"service": "api"})
    again = metric("request_count", 5.0, labels={"service": "api"})
    other = metric("request_count", 7.0, labels={"service": "web"})
    response = server.push([first, again, other])
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert (error["index"], error["name"]) == (1, "request_count")
    assert "same name and labels as metric 0" in error["message"]
    assert server.value("app_request_count_total", source="my_app", service="api") == 2.0
    assert server.value("app_request_count_total", source="my_app", service="web") == 7.0


def test_all_good_is_success(server: PushServer, metric: Metric) -> None:
    response = server.push([metric("a", 1), metric("b", 2, "gauge")])
    assert response.status_code == 200
    assert response.json() == {"processed": 2, "status": "success", "errors": []}


@pytest.fixture
def guarded(start_server: Callable[..., PushServer]) -> Iterator[PushServer]:
    yield start_server(token="s3cret-token")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token-and-more", "Bearer"],
)
def test_without_the_token_is_401(guarded: PushServer, metric: Metric, authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    body = {"source": "my_app", "metrics": [metric("a", 1)]}
    response = guarded.client.post("/api/metrics", json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in response.json()["errors"][0]["message"]
    assert guarded.value("app_a_total", source="my_app") is None


def test_with_the_token_is_200_and_openapi_says_so(guarded: PushServer, metric: Metric) -> None:
    body = {"source": "my_app", "metrics": [metric("a", 1)]}
    response = guarded.client.post(
        "/api/metrics", json=body, headers={"authorization": "Bearer s3cret-token"}
    )
    assert response.status_code == 200
    openapi = guarded.client.get("/api/openapi.json").json()
    assert openapi["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert openapi["paths"]["/api/metrics"]["post"]["security"] == [{"HTTPBearer": []}]


def test_over_the_declared_size_is_413(start_server: Callable[..., PushServer], metric: Metric) -> None:
    server = start_server(max_body_bytes=2048)
    metrics = [metric(f"m{i}", 1, labels={"pad": "x" * 100}) for i in range(20)]
    response = server.push(metrics)
    assert response.status_code == 413
    assert "2048 bytes" in response.json()["errors"][0]["message"]
    assert server.value("app_m0_total", source="my_app", pad="x" * 100) is None


def test_over_the_size_without_content_length_is_413(start_server: Callable[..., PushServer]) -> None:
    server = start_server(max_body_bytes=2048)

    def chunks() -> Iterator[bytes]:
        yield b'{"source": "my_app", "metrics": ['
        for _ in range(40):
            yield b'{"name": "a", "metric_type": "gauge", "help": "h", "value": {"value": 1}},'
        yield b"]}"

    response = server.client.post(
        "/api/metrics", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_the_size_limit_is_inclusive(start_server: Callable[..., PushServer], metric: Metric) -> None:
    server = start_server(max_body_bytes=2048)

    def body(help_length: int) -> bytes:
        return orjson.dumps(
            {"source": "my_app", "metrics": [metric("a", 1, "gauge", help="h" * help_length)]}
        )

    at_limit = body(2048 - len(body(0)))
    assert len(at_limit) == 2048
    headers = {"content-type": "application/json"}
    assert server.client.post("/api/metrics", content=at_limit, headers=headers).status_code == 200
    over = body(2049 - len(body(0)))
    assert server.client.post("/api/metrics", content=over, headers=headers).status_code == 413


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "json"])
def test_a_wrong_content_type_is_415(server: PushServer, metric: Metric, content_type: str | None) -> None:
    body = orjson.dumps({"source": "my_app", "metrics": [metric("a", 1)]})
    headers = {} if content_type is None else {"content-type": content_type}
    response = server.client.post("/api/metrics", content=body, headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["message"]


def test_json_with_a_charset_is_accepted(server: PushServer, metric: Metric) -> None:
    body = orjson.dumps({"source": "my_app", "metrics": [metric("a", 1)]})
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    assert server.client.post("/api/metrics", content=body, headers=headers).status_code == 200
